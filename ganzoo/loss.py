"""The loss interface: an adversarial objective the trainer drives without knowing which GAN it is."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ganzoo.options import Component

if TYPE_CHECKING:
    from torch import Tensor, nn


class Loss(Component):
    """An adversarial objective in logits, with its optional regulariser and per-step hook.

    The trainer runs ``n_critic`` discriminator steps per generator step. Each
    discriminator step minimises ``discriminator_loss`` plus ``regularizer`` (when
    it returns a tensor), then calls ``after_discriminator_step``. The generator
    step minimises ``generator_loss``.
    """

    n_critic: int = 1

    def discriminator_loss(self, real_logits: Tensor, fake_logits: Tensor) -> Tensor:
        """The scalar the discriminator minimises."""
        raise NotImplementedError

    def generator_loss(self, fake_logits: Tensor) -> Tensor:
        """The scalar the generator minimises."""
        raise NotImplementedError

    def regularizer(self, discriminator: nn.Module, real: Tensor, fake: Tensor) -> Tensor | None:
        """An extra discriminator term (a gradient penalty, say); ``None`` for none."""
        return None

    def after_discriminator_step(self, discriminator: nn.Module) -> None:
        """Called after each discriminator optimiser step (weight clipping, say)."""

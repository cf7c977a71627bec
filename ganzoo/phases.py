"""The phases of a training step — discriminator, regulariser, generator — for a plugin loss, without class labels."""

from __future__ import annotations

import torch
from torch import nn

from ganzoo.loss import Loss


class Phases:
    """What the trainer's step asks of its objective, one call per phase, given real samples, fakes and labels.

    These plain phases drive a registered loss (``ganzoo.loss.Loss``) on networks that take no labels: ``labels``
    is None for them. Class-conditional runs get the subclasses in ``ganzoo.conditional``, which feed labels to
    the networks and add terms of their own; the trainer knows the phases, not which GAN it trains.
    """

    def __init__(self, loss: Loss) -> None:
        self.loss = loss

    def generate(self, generator: nn.Module, z: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        """Fakes from noise ``z`` (and the classes asked for)."""
        return generator(z)

    def judge(self, discriminator: nn.Module, x: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        """The discriminator's raw output for samples ``x``."""
        return discriminator(x)

    def discriminator(
        self,
        discriminator: nn.Module,
        real: torch.Tensor,
        fake: torch.Tensor,
        labels: torch.Tensor | None,
        joint: bool = False,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The discriminator phase: ``(loss, real_logits, fake_logits)``, the scalar D minimises and the adversarial
        logits of the real and the fake batch (which the trainer records). ``joint``: real and fake go through D in
        one batch (the same maths for a discriminator without batch statistics), the labels twice."""
        if joint:
            both = torch.cat([real, fake])
            twice = None if labels is None else torch.cat([labels, labels])
            real_out, fake_out = self.judge(discriminator, both, twice).chunk(2)
        else:
            real_out = self.judge(discriminator, real, labels)
            fake_out = self.judge(discriminator, fake, labels)
        return self.discriminator_loss(real_out, fake_out, labels)

    def discriminator_loss(
        self, real_out: torch.Tensor, fake_out: torch.Tensor, labels: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """D's loss from its outputs on the real and the fake batch, and the adversarial logits among them."""
        return self.loss.discriminator_loss(real_out.float(), fake_out.float()), real_out, fake_out

    def regularizer(
        self, discriminator: nn.Module, real: torch.Tensor, fake: torch.Tensor, labels: torch.Tensor | None
    ) -> torch.Tensor | None:
        """The regulariser phase: the loss's extra discriminator term (None for none), on a D that takes samples
        only."""
        return self.loss.regularizer(discriminator, real, fake)

    def after_discriminator_step(self, discriminator: nn.Module) -> None:
        """After each discriminator optimiser step: the loss's hook (weight clipping, say)."""
        self.loss.after_discriminator_step(discriminator)

    def generator(self, discriminator: nn.Module, fake: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        """The generator phase: the scalar G minimises, given D's frozen judgement of its fakes."""
        return self.loss.generator_loss(self.judge(discriminator, fake, labels).float())

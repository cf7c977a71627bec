"""The architecture interface: what a plugin provides to build a generator and a discriminator."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ganzoo.options import Component

if TYPE_CHECKING:
    from torch import nn


class Architecture(Component):
    """Builds a generator (latent vector -> sample) and a discriminator (sample -> one logit).

    Options are the keyword arguments of ``__init__``; keep torch imports inside the
    methods so that listing plugins stays fast.

    ``joint_discriminator_batch`` (default False) lets the trainer run the discriminator
    once over real and fake samples concatenated into one batch, which is faster. Setting
    it True promises that the discriminator treats every sample independently: its output
    for a sample never depends on the other samples of the batch (no minibatch standard
    deviation, no batch-wise layers or statistics). Torch batch-norm layers are the one
    exception the trainer checks for itself: with any in the discriminator, real and fake
    always go through it in separate batches, whatever this says.
    """

    joint_discriminator_batch: bool = False

    def default_latent_dim(self, sample_shape: tuple[int, ...]) -> int:
        """The latent size used when neither the variant nor the user sets one."""
        return 100

    def check(self, sample_shape: tuple[int, ...], latent_dim: int) -> None:
        """Raise ``ganzoo.UsageError`` when this architecture cannot make samples of this shape."""

    def generator(self, sample_shape: tuple[int, ...], latent_dim: int) -> nn.Module:
        """A module mapping ``[B, latent_dim]`` noise to ``[B, *sample_shape]`` samples in [-1, 1]."""
        raise NotImplementedError

    def discriminator(self, sample_shape: tuple[int, ...]) -> nn.Module:
        """A module mapping ``[B, *sample_shape]`` samples to ``[B]`` logits."""
        raise NotImplementedError

    def packed_discriminator(self, sample_shape: tuple[int, ...], m: int) -> nn.Module:
        """A discriminator of packs (PacGAN): maps ``[B, m * C, ...]`` packs, each m samples of ``sample_shape``
        concatenated along their first axis, to ``[B]`` logits. By default the plain discriminator built for that
        packed shape; an architecture may override it to treat each sample of a pack apart in its first layer."""
        return self.discriminator((m * sample_shape[0], *sample_shape[1:]))

    # Optional: an architecture that defines ``discriminator_parts(sample_shape) -> (body, head, channels)`` can be
    # class-conditional. ``body`` maps samples to features ``[B, channels]`` or ``[B, channels, H, W]``, ``head``
    # maps those features to ``[B]`` logits (body then head is the plain discriminator); the projection
    # discriminator adds the class embedding's inner product with the features summed over space.

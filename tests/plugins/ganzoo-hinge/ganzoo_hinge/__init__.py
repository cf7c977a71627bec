"""A third-party plugin from before ganzoo had a built-in ``hinge`` loss: its own ``hinge`` and a variant using it."""

from typing import Annotated

from ganzoo import Range, hookimpl
from ganzoo.loss import Loss
from ganzoo.variant import Variant


class Hinge(Loss):
    """Hinge loss with a margin: D minimises E[relu(margin - D(x))] + E[relu(margin + D(G(z)))]."""

    def __init__(self, margin: Annotated[float, Range(0, min_exclusive=True)] = 1.0) -> None:
        self.margin = margin

    def discriminator_loss(self, real_logits, fake_logits):
        return (self.margin - real_logits).relu().mean() + (self.margin + fake_logits).relu().mean()

    def generator_loss(self, fake_logits):
        return -fake_logits.mean()


@hookimpl
def register_losses(register):
    register("hinge", Hinge)


@hookimpl
def register_variants(register):
    register(
        "sngan-toy",
        Variant(
            description="The mlp GAN on the ring with this plugin's hinge loss",
            architecture="mlp",
            loss="hinge",
            data="ring",
            batch_size=32,
        ),
    )

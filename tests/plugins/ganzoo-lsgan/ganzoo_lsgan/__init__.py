"""A third-party ganzoo plugin: the least-squares GAN loss (Mao et al. 2017) and a variant that uses it."""

from typing import Annotated

import click

from ganzoo import Range, hookimpl
from ganzoo.loss import Loss
from ganzoo.variant import Variant


class LeastSquares(Loss):
    """Least squares: D pushes real logits to 1 and fake to 0; G pushes fake logits to 1."""

    # Options are keyword arguments: `--set loss.n_critic=2` sets this one, and ganzoo
    # refuses a value outside its declared range before __init__ runs.
    def __init__(self, n_critic: Annotated[int, Range(1, 100)] = 1) -> None:
        self.n_critic = n_critic

    def discriminator_loss(self, real_logits, fake_logits):
        return 0.5 * ((real_logits - 1) ** 2).mean() + 0.5 * (fake_logits**2).mean()

    def generator_loss(self, fake_logits):
        return 0.5 * ((fake_logits - 1) ** 2).mean()


@hookimpl
def register_losses(register):
    register("lsgan", LeastSquares)


@hookimpl
def register_variants(register):
    register(
        "lsgan",
        Variant(
            description="LSGAN: DCGAN networks with the least-squares loss",
            architecture="dcgan",
            loss="lsgan",
            points_architecture="mlp",  # DCGAN makes only images: `--data ring` trains the mlp networks
            optimizer="adam",
            lr_g=2e-4,
            lr_d=2e-4,
            betas=(0.5, 0.999),
            data="digits",
        ),
    )


@hookimpl
def register_commands(cli):
    @cli.command("lsgan-hello")
    def hello():
        """Say that the lsgan plugin is here."""
        click.echo("lsgan plugin says hello")

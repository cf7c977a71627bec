"""Built-in plugin: the vanilla GAN (Goodfellow et al. 2014) — the `mlp` architecture, minimax and non-saturating
losses."""

from __future__ import annotations

from typing import Annotated, Literal

from ganzoo import Range, hookimpl
from ganzoo.architecture import Architecture
from ganzoo.loss import Loss
from ganzoo.variant import Variant


class MLP(Architecture):
    """Fully connected G and D for flat data (2D points) and small images; PacGAN 2D defaults.

    The generator has ``g_depth`` hidden layers of ``g_width`` units with batch norm
    and ReLU; the discriminator has ``d_depth`` hidden layers of ``d_width`` units,
    maxout with ``d_maxout`` pieces (0: LeakyReLU 0.2 instead). Images get a tanh
    output; points a linear one. ``d_spectral_norm`` wraps every discriminator layer
    in spectral normalisation (Miyato et al. 2018). ``init_std`` > 0 draws every linear
    weight of both networks from N(0, init_std²) with zero biases, as the PacGAN code does
    (0.02); 0 keeps PyTorch's default initialisation of each layer. ``d_pack_input``: how a packed (PacGAN)
    discriminator's first layer reads a pack: ``per_sample`` (each sample apart, then judged together; the
    default) or ``dense`` (one layer over all coordinates, as the PacGAN code; see ``MLPDiscriminator``).
    """

    joint_discriminator_batch = True  # linear, maxout and LeakyReLU layers: every sample on its own

    def __init__(
        self,
        g_width: Annotated[int, Range(1, 16384)] = 400,
        g_depth: Annotated[int, Range(1, 64)] = 4,
        g_batch_norm: bool = True,
        d_width: Annotated[int, Range(1, 16384)] = 200,
        d_depth: Annotated[int, Range(1, 64)] = 3,
        d_maxout: Annotated[int, Range(0, 64)] = 5,
        d_spectral_norm: bool = False,
        init_std: Annotated[float, Range(0, 1)] = 0.0,
        d_pack_input: Literal["per_sample", "dense"] = "per_sample",
    ) -> None:
        self.g_width, self.g_depth, self.g_batch_norm = g_width, g_depth, g_batch_norm
        self.d_width, self.d_depth, self.d_maxout = d_width, d_depth, d_maxout
        self.d_spectral_norm = d_spectral_norm
        self.init_std = init_std
        self.d_pack_input = d_pack_input

    def default_latent_dim(self, sample_shape: tuple[int, ...]) -> int:
        return 2 if len(sample_shape) == 1 else 100

    def generator(self, sample_shape: tuple[int, ...], latent_dim: int):
        from ganzoo_vanilla.networks import MLPGenerator

        return MLPGenerator(sample_shape, latent_dim, self.g_width, self.g_depth, self.g_batch_norm, self.init_std)

    def discriminator(self, sample_shape: tuple[int, ...]):
        from ganzoo_vanilla.networks import MLPDiscriminator

        return MLPDiscriminator(
            sample_shape, self.d_width, self.d_depth, self.d_maxout, self.d_spectral_norm, self.init_std
        )

    def packed_discriminator(self, sample_shape: tuple[int, ...], m: int):
        from ganzoo_vanilla.networks import MLPDiscriminator

        shape = (m * sample_shape[0], *sample_shape[1:])
        return MLPDiscriminator(
            shape,
            self.d_width,
            self.d_depth,
            self.d_maxout,
            self.d_spectral_norm,
            self.init_std,
            pack=m,
            pack_input=self.d_pack_input,
        )

    def discriminator_parts(self, sample_shape: tuple[int, ...]):
        """The discriminator split for a class-conditional (projection) one: the hidden layers, and the output layer."""
        from torch import nn

        net = self.discriminator(sample_shape).net
        return net[:-1], nn.Sequential(net[-1], nn.Flatten(0)), net[-1].in_features


class Minimax(Loss):
    """The original saturating objective: G minimises log(1 - D(G(z))) (Goodfellow et al. 2014, eq. 1)."""

    def __init__(self, n_critic: Annotated[int, Range(1, 100)] = 1) -> None:
        self.n_critic = n_critic

    def discriminator_loss(self, real_logits, fake_logits):
        import torch.nn.functional as F

        # -log D(x) - log(1 - D(G(z))), with D = sigmoid(logit)
        return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()

    def generator_loss(self, fake_logits):
        import torch.nn.functional as F

        # log(1 - sigmoid(l)) = -softplus(l)
        return -F.softplus(fake_logits).mean()


class NonSaturating(Minimax):
    """The non-saturating objective: G maximises log D(G(z)) (Goodfellow et al. 2014, section 3)."""

    def generator_loss(self, fake_logits):
        import torch.nn.functional as F

        return F.softplus(-fake_logits).mean()


PACGAN_2D = dict(
    architecture="mlp",
    optimizer="adam",
    lr_g=1e-4,
    lr_d=1e-4,
    betas=(0.8, 0.999),
    batch_size=100,
    data="ring",
    steps=10_000,
)


@hookimpl
def register_architectures(register):
    register("mlp", MLP)


@hookimpl
def register_losses(register):
    register("minimax", Minimax)
    register("nonsaturating", NonSaturating)


@hookimpl
def register_variants(register):
    register(
        "gan",
        Variant(
            description=(
                "Vanilla GAN, non-saturating G loss, MLPs; PacGAN 2D settings (Adam 1e-4, beta1 0.8, batch 100)"
            ),
            loss="nonsaturating",
            **PACGAN_2D,
        ),
    )
    register(
        "gan-minimax",
        Variant(
            description="Vanilla GAN with the saturating minimax G loss (the paper's equation 1), MLPs",
            loss="minimax",
            **PACGAN_2D,
        ),
    )
    for m in (2, 3, 4):
        # The PacGAN recipe: the `gan` recipe whose discriminator judges m samples packed together. As in the
        # paper's code, a step holds 100 packs (a batch of 100 * m samples), so D sees as many inputs per step as
        # the unpacked GAN's D and G makes m times as many samples (a batch of 100 samples would give PacGAN4's D
        # 25 inputs a step).
        packs = PACGAN_2D["batch_size"]
        register(
            f"pacgan{m}",
            Variant(
                description=f"PacGAN{m} (Lin et al. 2018): the gan recipe with D judging packs of {m} samples; "
                f"non-saturating G loss, MLPs, Adam 1e-4, beta1 0.8, {packs} packs a step "
                f"(batch {packs * m} samples)",
                loss="nonsaturating",
                pack=m,
                **{**PACGAN_2D, "batch_size": packs * m},
            ),
        )


__all__ = ["MLP", "Minimax", "NonSaturating"]


@hookimpl
def register_pretrained(register):
    from ganzoo_vanilla.catalogue import GAN_GRID, GAN_RING

    register("gan-ring", GAN_RING)
    register("gan-grid", GAN_GRID)

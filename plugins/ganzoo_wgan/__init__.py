"""Built-in plugin: Wasserstein GANs — weight clipping (Arjovsky et al. 2017) and gradient penalty (Gulrajani et al.
2017)."""

from __future__ import annotations

from typing import Annotated

from ganzoo import Range, hookimpl
from ganzoo.loss import Loss
from ganzoo.variant import Variant


class Wasserstein(Loss):
    """Critic maximises E[D(x)] - E[D(G(z))]; weights clipped to [-clip, clip] after every critic step."""

    def __init__(self, n_critic: Annotated[int, Range(1, 100)] = 5, clip: Annotated[float, Range(0)] = 0.01) -> None:
        self.n_critic, self.clip = n_critic, clip

    def discriminator_loss(self, real_logits, fake_logits):
        return fake_logits.mean() - real_logits.mean()

    def generator_loss(self, fake_logits):
        return -fake_logits.mean()

    def after_discriminator_step(self, discriminator) -> None:
        if self.clip:
            import torch

            with torch.no_grad():
                for p in discriminator.parameters():
                    p.clamp_(-self.clip, self.clip)


class GradientPenalty(Wasserstein):
    """Wasserstein critic loss + gp_weight * E[(||grad D(x_hat)||_2 - 1)^2] on random interpolates, in fp32."""

    def __init__(
        self, n_critic: Annotated[int, Range(1, 100)] = 5, gp_weight: Annotated[float, Range(0)] = 10.0
    ) -> None:
        super().__init__(n_critic=n_critic, clip=0.0)
        self.gp_weight = gp_weight

    def regularizer(self, discriminator, real, fake):
        import torch

        real, fake = real.detach().float(), fake.detach().float()
        shape = (real.shape[0],) + (1,) * (real.dim() - 1)
        alpha = torch.rand(shape, device=real.device)
        x_hat = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
        # fp32 on purpose: the penalty's double backward overflows/NaNs under reduced precision
        with torch.autocast(device_type=real.device.type, enabled=False):
            logits = discriminator(x_hat).float()
            (grad,) = torch.autograd.grad(logits.sum(), x_hat, create_graph=True)
        norms = grad.flatten(1).norm(2, dim=1)
        return self.gp_weight * (norms - 1).square().mean()


@hookimpl
def register_losses(register):
    register("wasserstein", Wasserstein)
    register("wgan-gp", GradientPenalty)


@hookimpl
def register_variants(register):
    register(
        "wgan",
        Variant(
            description=(
                "WGAN: DCGAN networks, Wasserstein loss with weight clipping 0.01, RMSprop 5e-5, 5 critic steps"
            ),
            architecture="dcgan",
            loss="wasserstein",
            optimizer="rmsprop",
            lr_g=5e-5,
            lr_d=5e-5,
            batch_size=64,
            points_architecture="mlp",
            ema=0.999,
            data="digits",
            steps=1500,
        ),
    )
    register(
        "wgan-gp",
        Variant(
            description=(
                "WGAN-GP: DCGAN networks, critic without batch norm, gradient penalty 10, Adam 1e-4 betas (0, 0.9); "
                "on 2-D points MLPs, penalty 0.1, betas (0.5, 0.9)"
            ),
            architecture="dcgan",
            loss="wgan-gp",
            optimizer="adam",
            lr_g=1e-4,
            lr_d=1e-4,
            betas=(0.0, 0.9),
            batch_size=64,
            points_architecture="mlp",
            ema=0.999,
            data="digits",
            steps=1500,
            architecture_options={"d_norm": "layer"},
            # The authors' settings for 2-D toy data (their gan_toy.py): penalty 0.1, Adam betas (0.5, 0.9). With
            # penalty 10 and 5 critic steps the critic lags the generator on the ring and no mode is reached.
            data_kind_overrides={"points": {"loss_options": {"gp_weight": 0.1}, "betas": (0.5, 0.9)}},
        ),
    )


@hookimpl
def register_pretrained(register):
    from ganzoo_wgan.catalogue import WGAN_GP_DIGITS

    register("wgan-gp-digits", WGAN_GP_DIGITS)

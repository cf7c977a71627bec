"""The DCGAN generator and discriminator modules."""

from __future__ import annotations

import math

import torch
from torch import nn


def init_dcgan_weights(module: nn.Module) -> None:
    """Radford et al.: every weight from N(0, 0.02); norm scales from N(1, 0.02), shifts 0."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


class DCGANGenerator(nn.Module):
    """z -> 4x4 by a transposed conv, then doubling the size each block up to ``size``, tanh output."""

    def __init__(self, channels: int, size: int, latent_dim: int, width: int = 64):
        super().__init__()
        blocks = int(math.log2(size)) - 2  # 4 -> size takes this many doublings
        mult = 2 ** (blocks - 1)
        layers: list[nn.Module] = [
            nn.Unflatten(1, (latent_dim, 1, 1)),
            nn.ConvTranspose2d(latent_dim, width * mult, 4, 1, 0, bias=False),
            nn.BatchNorm2d(width * mult),
            nn.ReLU(inplace=True),
        ]
        for _ in range(blocks - 1):
            layers += [
                nn.ConvTranspose2d(width * mult, width * mult // 2, 4, 2, 1, bias=False),
                nn.BatchNorm2d(width * mult // 2),
                nn.ReLU(inplace=True),
            ]
            mult //= 2
        layers += [nn.ConvTranspose2d(width, channels, 4, 2, 1, bias=False), nn.Tanh()]
        self.net = nn.Sequential(*layers)
        init_dcgan_weights(self)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)


def _norm(kind: str, channels: int) -> list[nn.Module]:
    if kind == "batch":
        return [nn.BatchNorm2d(channels)]
    if kind == "layer":
        return [nn.GroupNorm(1, channels)]
    return []


class DCGANDiscriminator(nn.Module):
    """An image -> halving the size each block down to 4x4 -> one logit; no norm on the first block.

    With ``spectral_norm`` every convolution's weight is divided by its largest singular value (of the
    weight reshaped to ``[out, in x k x k]``), estimated by one power iteration per forward pass in
    training mode (Miyato et al. 2018); the iteration's vectors are buffers, so checkpoints hold them.
    """

    def __init__(self, channels: int, size: int, width: int = 64, norm: str = "batch", spectral_norm: bool = False):
        super().__init__()
        blocks = int(math.log2(size)) - 2
        layers: list[nn.Module] = [nn.Conv2d(channels, width, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True)]
        mult = 1
        for _ in range(blocks - 1):
            layers += [
                nn.Conv2d(width * mult, width * mult * 2, 4, 2, 1, bias=norm == "none"),
                *_norm(norm, width * mult * 2),
                nn.LeakyReLU(0.2, inplace=True),
            ]
            mult *= 2
        layers += [nn.Conv2d(width * mult, 1, 4, 1, 0, bias=False), nn.Flatten(0)]
        self.net = nn.Sequential(*layers)
        init_dcgan_weights(self)
        if spectral_norm:
            from torch.nn.utils.parametrizations import spectral_norm as wrap

            for layer in list(self.net):
                if isinstance(layer, nn.Conv2d):
                    wrap(layer, n_power_iterations=1)  # after the init: the wrapped weight is computed, not stored

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

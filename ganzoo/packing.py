"""Packing (PacGAN, Lin et al. 2018): a discriminator that judges m samples at once, for any architecture."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ganzoo.errors import GanzooError, UsageError
from ganzoo.limits import MAX_PACK
from ganzoo.values import is_int


def packed_shape(sample_shape: tuple[int, ...] | list[int], m: int) -> tuple[int, ...]:
    """The shape of one pack of ``m`` samples: the first axis grows m-fold (images [C,H,W] -> [m*C,H,W],
    points [D] -> [m*D])."""
    shape = tuple(int(s) for s in sample_shape)
    if not shape:
        raise UsageError("packing needs samples with at least one axis (points [D] or images [C,H,W])")
    if not is_int(m) or not 1 <= m <= MAX_PACK:
        raise UsageError(f"pack must be an integer from 1 to {MAX_PACK}, got {m!r}")
    return (m * shape[0], *shape[1:])


class Packed(nn.Module):
    """Wraps a discriminator built for packs: ``[B, *shape]`` samples -> ``[B/m]`` logits, one per pack.

    Samples ``i*m`` to ``i*m+m-1`` form pack ``i``, concatenated along their first axis, so a batch made of
    real samples followed by as many fake ones (B divisible by m) never puts real and fake in one pack.
    """

    def __init__(self, inner: nn.Module, m: int) -> None:
        super().__init__()
        packed_shape((1,), m)  # checks m
        self.inner = inner
        self.m = m

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch = x.shape[0]
        if batch % self.m:
            raise GanzooError(
                f"a batch of {batch} samples cannot be cut into packs of {self.m}; "
                f"use a batch size that is a multiple of {self.m}"
            )
        packs = x.reshape(batch // self.m, self.m * x.shape[1], *x.shape[2:])
        return self.inner(packs)

    def extra_repr(self) -> str:
        return f"m={self.m}"


def packed_discriminator(
    architecture: str, options: dict[str, Any], sample_shape: tuple[int, ...], m: int
) -> nn.Module:
    """The registered architecture's discriminator for packs of ``m`` samples of ``sample_shape``
    (``Architecture.packed_discriminator``), wrapped in ``Packed`` (the plain discriminator when ``m`` is 1)."""
    from ganzoo.plugins import registry

    arch = registry().get("architecture", architecture).obj.create(f"architecture {architecture!r}", **options)
    if m == 1:
        return arch.discriminator(tuple(sample_shape))
    packed_shape(sample_shape, m)  # checks m and the shape
    return Packed(arch.packed_discriminator(tuple(sample_shape), m), m)

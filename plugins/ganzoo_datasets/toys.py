"""2D Gaussian mixtures for mode-collapse tests: 8 modes on a ring and 25 on a grid (PacGAN / VEEGAN setup)."""

from __future__ import annotations

import math

import torch

from ganzoo.data import Samples

SIGMAS = {"ring": 0.01, "grid": 0.05}


def mixture_modes(name: str) -> torch.Tensor:
    """The mode centres of ``ring`` (8 on the unit circle) or ``grid`` ({-4, -2, 0, 2, 4}^2) as ``float32 [M, 2]``."""
    if name == "ring":
        angles = [2 * math.pi * k / 8 for k in range(8)]
        return torch.tensor([[math.cos(a), math.sin(a)] for a in angles], dtype=torch.float32)
    if name == "grid":
        values = [-4.0, -2.0, 0.0, 2.0, 4.0]
        return torch.tensor([[x, y] for x in values for y in values], dtype=torch.float32)
    raise ValueError(f"unknown mixture {name!r}")


def draw(name: str, n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` points of mixture ``name`` and the index of the mode each came from, determined by ``seed``."""
    modes = mixture_modes(name)
    generator = torch.Generator().manual_seed(seed)
    labels = torch.randint(len(modes), (n,), generator=generator, dtype=torch.int64)
    noise = torch.randn((n, 2), generator=generator, dtype=torch.float32)
    points = modes[labels] + SIGMAS[name] * noise
    return points, labels


def load_mixture(name: str, split: str, n: int, seed: int) -> Samples:
    """Train: ``n`` points with ``seed``; test: ``n`` with ``seed + 1``; all: train then test."""
    seeds = {"train": [seed], "test": [seed + 1], "all": [seed, seed + 1]}[split]
    parts = [draw(name, n, s) for s in seeds]
    points = torch.cat([p for p, _ in parts])
    labels = torch.cat([lab for _, lab in parts])
    modes = mixture_modes(name)
    return Samples(
        data=points,
        kind="points",
        labels=labels,
        num_classes=len(modes),
        modes=modes,
        mode_std=SIGMAS[name],
        info={"name": name, "split": split, "size": None, "n": len(points), "seeds": seeds, "sigma": SIGMAS[name]},
    )

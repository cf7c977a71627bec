"""Variants: named recipes of an architecture, a loss, optimiser settings and training defaults."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, Literal


@dataclass(frozen=True)
class Variant:
    """A named recipe; ``ganzoo train NAME`` starts from it and flags override any part."""

    description: str
    architecture: str
    loss: str
    optimizer: Literal["adam", "rmsprop"] = "adam"
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)
    batch_size: int = 64
    latent_dim: int | None = None
    ema: float | None = None
    data: str = "digits"
    steps: int = 1000
    architecture_options: dict[str, Any] = field(default_factory=dict)
    loss_options: dict[str, Any] = field(default_factory=dict)
    data_options: dict[str, Any] = field(default_factory=dict)
    # Used instead of `architecture` when the data are points (2D mixtures), which image networks cannot make.
    points_architecture: str | None = None

    def describe(self) -> str:
        return self.description

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

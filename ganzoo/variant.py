"""Variants: named recipes of an architecture, a loss, optimiser settings and training defaults."""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any, Literal

# Learning-rate schedules: constant, or a straight line from the set rates down to 0 at the run's last step.
LrDecay = Literal["none", "linear"]
Optimizer = Literal["adam", "rmsprop"]  # the torch.optim optimisers a recipe may name

# Fields that stay what the variant says whatever the data: the name's description, its default data set and the
# per-kind machinery itself.
FIXED_FIELDS = frozenset({"description", "data", "points_architecture", "data_kind_overrides"})


@dataclass(frozen=True)
class Variant:
    """A named recipe; ``ganzoo train NAME`` starts from it and flags override any part."""

    description: str
    architecture: str
    loss: str
    optimizer: Optimizer = "adam"
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)
    batch_size: int = 64
    # samples the discriminator judges together (PacGAN packing, Lin et al. 2018); batch_size must be a multiple
    pack: int = 1
    # class-conditional: G(z, y) and a projection D(x, y); needs a data set with class labels
    conditional: bool = False
    # > 0 with conditional: an auxiliary-classifier discriminator (ACGAN) whose class cross-entropy both players add
    aux_weight: float = 0.0
    latent_dim: int | None = None
    ema: float | None = None
    lr_decay: LrDecay = "none"
    data: str = "digits"
    steps: int = 1000
    architecture_options: dict[str, Any] = field(default_factory=dict)
    loss_options: dict[str, Any] = field(default_factory=dict)
    data_options: dict[str, Any] = field(default_factory=dict)
    # Used instead of `architecture` when the data are points (2D mixtures), which image networks cannot make.
    points_architecture: str | None = None
    # Per data kind ("image", "points"), fields of this recipe replaced on data of that kind, e.g.
    # {"points": {"loss_options": {"gp_weight": 0.1}}}: settings made for images seldom suit 2-D points.
    data_kind_overrides: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        allowed = {f.name for f in fields(self)} - FIXED_FIELDS
        for kind, changes in self.data_kind_overrides.items():
            unknown = sorted(set(changes) - allowed)
            if unknown:
                raise ValueError(
                    f"variant data_kind_overrides[{kind!r}] names {unknown[0]!r}, which it cannot replace "
                    f"(it may replace: {', '.join(sorted(allowed))})"
                )

    def for_data_kind(self, kind: str) -> Variant:
        """This recipe as it trains on data of ``kind``: on points the ``points_architecture`` (without the
        other architecture's options), then the fields that ``data_kind_overrides[kind]`` names."""
        changes: dict[str, Any] = {}
        if kind == "points" and self.points_architecture and self.points_architecture != self.architecture:
            changes = {"architecture": self.points_architecture, "architecture_options": {}}
        changes.update(self.data_kind_overrides.get(kind, {}))
        return replace(self, **changes) if changes else self

    def describe(self) -> str:
        return self.description

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

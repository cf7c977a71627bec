"""The fully resolved training configuration: a variant, the user's flags and ``--set KEY=VALUE`` overrides."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal

from ganzoo.errors import UsageError
from ganzoo.options import coerce

# Keys of TrainConfig that `--set` may change directly, with their types.
SETTABLE: dict[str, Any] = {
    "architecture": str,
    "loss": str,
    "optimizer": Literal["adam", "rmsprop"],
    "lr_g": float,
    "lr_d": float,
    "betas": tuple[float, float],
    "batch_size": int,
    "latent_dim": int,
    "ema": float | None,
}
ALIASES = {"arch": "architecture", "lr": ("lr_g", "lr_d")}
PREFIXES = {"arch": "architecture_options", "architecture": "architecture_options", "loss": "loss_options", "data": "data_options"}
# What may differ between a run and its resumption.
RUN_SETTINGS = ("steps", "sample_every", "ckpt_every", "log_every", "keep", "device", "compile", "amp")


@dataclass
class TrainConfig:
    """Everything that decides what a run trains; ``config.json`` in the run folder holds it."""

    variant: str
    architecture: str
    loss: str
    data: str
    optimizer: str
    lr_g: float
    lr_d: float
    betas: tuple[float, float]
    batch_size: int
    latent_dim: int
    ema: float | None
    steps: int
    seed: int = 0
    architecture_options: dict[str, Any] = field(default_factory=dict)
    loss_options: dict[str, Any] = field(default_factory=dict)
    data_options: dict[str, Any] = field(default_factory=dict)
    device: str = "auto"
    amp: bool | None = None
    compile: bool = False
    sample_every: int = 500
    ckpt_every: int = 500
    log_every: int = 50
    keep: int = 3

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise UsageError(f"config has unknown key {unknown[0]!r}")
        data = dict(data)
        data["betas"] = tuple(data["betas"])
        return cls(**data)

    def identity(self) -> dict[str, Any]:
        """The part that must match for a run folder to be resumed with this configuration."""
        return {k: v for k, v in self.as_dict().items() if k not in RUN_SETTINGS}


def parse_sets(pairs: list[str] | tuple[str, ...] | dict[str, Any] | None) -> dict[str, Any]:
    """``["lr=1e-4", "arch.g_width=32"]`` -> ``{"lr": "1e-4", "arch.g_width": "32"}``."""
    if not pairs:
        return {}
    if isinstance(pairs, dict):
        return dict(pairs)
    found: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--set expects KEY=VALUE, got {pair!r}")
        found[key.strip()] = value.strip()
    return found


def resolve_config(
    variant_name: str,
    *,
    data: str | None = None,
    steps: int | None = None,
    batch_size: int | None = None,
    seed: int = 0,
    ema: float | None | Literal["variant"] = "variant",
    overrides: dict[str, Any] | None = None,
    **run_settings: Any,
) -> TrainConfig:
    """Start from the registered variant, apply explicit arguments and ``overrides``, check every name and value."""
    from ganzoo.plugins import registry

    reg = registry()
    variant = reg.get("variant", variant_name).obj
    sets = dict(overrides or {})
    top: dict[str, Any] = {}
    nested: dict[str, dict[str, Any]] = {"architecture_options": {}, "loss_options": {}, "data_options": {}}
    for key, value in sets.items():
        prefix, dot, rest = key.partition(".")
        if dot:
            if prefix not in PREFIXES or not rest:
                raise UsageError(f"unknown --set key {key!r}; nested keys start with arch., loss. or data.")
            nested[PREFIXES[prefix]][rest] = value
            continue
        target = ALIASES.get(key, key)
        for name in target if isinstance(target, tuple) else (target,):
            if name not in SETTABLE:
                known = ", ".join([*SETTABLE, "lr", "arch", "arch.KEY", "loss.KEY", "data.KEY"])
                raise UsageError(f"unknown --set key {key!r} (known: {known})")
            top[name] = coerce(value, SETTABLE[name], f"--set {key}")

    loss = top.get("loss", variant.loss)
    data_name = data or variant.data
    data_entry = reg.get("dataset", data_name)
    architecture = top.get("architecture", variant.architecture)
    if "architecture" not in top and variant.points_architecture and getattr(data_entry.obj, "kind", "image") == "points":
        architecture = variant.points_architecture
    arch_entry = reg.get("architecture", architecture)
    loss_entry = reg.get("loss", loss)

    arch_options = dict(variant.architecture_options) if architecture == variant.architecture else {}
    arch_options.update(nested["architecture_options"])
    loss_options = dict(variant.loss_options) if loss == variant.loss else {}
    loss_options.update(nested["loss_options"])
    data_options = dict(variant.data_options) if data_name == variant.data else {}
    data_options.update(nested["data_options"])
    # Instantiating checks every option name and value, and records the full set with defaults.
    arch_options = arch_entry.obj.create(f"architecture {architecture!r}", **arch_options).get_options()
    loss_options = loss_entry.obj.create(f"loss {loss!r}", **loss_options).get_options()
    data_options = _check_data_options(data_entry.obj, data_name, data_options)

    config = TrainConfig(
        variant=variant_name,
        architecture=architecture,
        loss=loss,
        data=data_name,
        optimizer=top.get("optimizer", variant.optimizer),
        lr_g=top.get("lr_g", variant.lr_g),
        lr_d=top.get("lr_d", variant.lr_d),
        betas=tuple(top.get("betas", variant.betas)),
        batch_size=batch_size if batch_size is not None else top.get("batch_size", variant.batch_size),
        latent_dim=top.get("latent_dim", variant.latent_dim) or 0,
        ema=top["ema"] if "ema" in top else (variant.ema if ema == "variant" else ema),
        steps=steps if steps is not None else variant.steps,
        seed=seed,
        architecture_options=arch_options,
        loss_options=loss_options,
        data_options=data_options,
        **run_settings,
    )
    check_config(config)
    return config


def _check_data_options(cls: type, spec: str, given: dict[str, Any]) -> dict[str, Any]:
    from ganzoo.options import resolve_options
    from ganzoo.registry import split_argument

    name, argument = split_argument(spec)
    if getattr(cls, "takes_argument", False):
        if not argument:
            raise UsageError(f"data set {name!r} needs an argument: --data {name}:VALUE")
        resolved = resolve_options(cls, {"argument": argument, **given}, f"data set {name!r}")
        resolved.pop("argument", None)
        return resolved
    if argument:
        raise UsageError(f"data set {name!r} takes no argument (got {spec!r})")
    return resolve_options(cls, given, f"data set {name!r}")


def latent_dim_for(config: TrainConfig, sample_shape: tuple[int, ...]) -> int:
    """The latent size (the architecture's default when the config leaves it 0), after checking the
    architecture can make samples of ``sample_shape`` (its UsageError otherwise)."""
    from ganzoo.plugins import registry

    arch = registry().get("architecture", config.architecture).obj.create(**config.architecture_options)
    latent_dim = config.latent_dim or arch.default_latent_dim(tuple(sample_shape))
    arch.check(tuple(sample_shape), latent_dim)
    return latent_dim


def check_config(config: TrainConfig) -> None:
    """Raise a UsageError naming the first value that cannot train."""
    positive = ("steps", "batch_size", "sample_every", "ckpt_every", "log_every", "keep")
    for name in positive:
        value = getattr(config, name)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise UsageError(f"{name.replace('_', '-')} must be a positive integer, got {value!r}")
    if config.latent_dim < 0:
        raise UsageError(f"latent_dim must be positive, got {config.latent_dim}")
    for name in ("lr_g", "lr_d"):
        if not getattr(config, name) > 0:
            raise UsageError(f"{name} must be > 0, got {getattr(config, name)}")
    if config.ema is not None and not 0.0 < config.ema < 1.0:
        raise UsageError(f"ema must be a decay in (0, 1) or none, got {config.ema}")
    if config.optimizer not in ("adam", "rmsprop"):
        raise UsageError(f"optimizer must be adam or rmsprop, got {config.optimizer!r}")

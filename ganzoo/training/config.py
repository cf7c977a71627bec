"""The fully resolved training configuration: a variant, the user's flags and ``--set KEY=VALUE`` overrides."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from ganzoo.errors import GanzooError, UsageError
from ganzoo.limits import MAX_LATENT_DIM, MAX_PACK
from ganzoo.options import coerce
from ganzoo.values import is_int
from ganzoo.variant import LrDecay

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
    "pack": int,
    "aux_weight": float,
    "lr_decay": LrDecay,
}
ALIASES = {"arch": "architecture", "lr": ("lr_g", "lr_d")}
PREFIXES = {"arch": "architecture_options", "architecture": "architecture_options", "loss": "loss_options", "data": "data_options"}
# What may differ between a run and its resumption.
RUN_SETTINGS = ("steps", "sample_every", "ckpt_every", "log_every", "keep", "device", "compile", "amp", "cuda_graphs")
# Bounds checked before anything is allocated (the latent limit is the one generator folders use).
MAX_BATCH_SIZE = 65536
MAX_SEED = 2**32 - 1
LR_DECAYS = get_args(LrDecay)
# The type of every TrainConfig field in config.json: what a run folder's file must hold.
_STR_FIELDS = ("variant", "architecture", "loss", "data", "optimizer", "device", "lr_decay")
_INT_FIELDS = ("batch_size", "latent_dim", "steps", "seed", "pack", "sample_every", "ckpt_every", "log_every", "keep")
_OPTION_FIELDS = ("architecture_options", "loss_options", "data_options")


class RunConfigError(GanzooError):
    """A run folder's config.json that is missing a key, holds a wrong type or an impossible value."""


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
    # samples per discriminator input (PacGAN packing); a run folder written before packing existed has no
    # "pack" key and reads as 1
    pack: int = 1
    # class-conditional networks (G(z, y), a projection D(x, y)); older run folders have no key and read as False
    conditional: bool = False
    # > 0: the class-conditional discriminator is an auxiliary classifier (ACGAN, Odena et al. 2017) instead of a
    # projection, and both players add this weight x the cross-entropy of its class prediction
    aux_weight: float = 0.0
    # "linear": both learning rates fall in a straight line from lr_g/lr_d at step 0 to 0 at `steps` (set from the
    # step count before every step); older run folders have no key and read as "none" (constant rates)
    lr_decay: str = "none"
    architecture_options: dict[str, Any] = field(default_factory=dict)
    loss_options: dict[str, Any] = field(default_factory=dict)
    data_options: dict[str, Any] = field(default_factory=dict)
    device: str = "auto"
    amp: bool | None = None
    compile: bool = False
    # the whole step captured in one CUDA graph and replayed; None: on when training on CUDA
    cuda_graphs: bool | None = None
    sample_every: int = 500
    ckpt_every: int = 500
    log_every: int = 50
    keep: int = 3

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Any, where: str = "config", prefix: str = "") -> TrainConfig:
        """The configuration a run's ``config.json`` records, checked key by key: a RunConfigError naming ``where``
        and ``prefix`` + the key for a missing or unknown key, a wrong type or an impossible value (never
        KeyError/TypeError)."""

        def bad(key: str, problem: str) -> RunConfigError:
            return RunConfigError(
                f"{where}: {(prefix + key).rstrip('.') or 'config'!r} {problem}; the file was altered or damaged "
                "(restore it, or start the run over)"
            )

        if not isinstance(data, dict):
            raise bad("", f"must be a JSON object of training settings, got {_kind(data)}")
        fields = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(str(k) for k in data if k not in fields)
        if unknown:
            raise bad(unknown[0], "is not a setting ganzoo knows (a newer ganzoo's run, or an edited file)")
        missing = [name for name, f in fields.items() if name not in data and f.default is dataclasses.MISSING
                   and f.default_factory is dataclasses.MISSING]
        if missing:
            raise bad(missing[0], "is missing")
        values = dict(data)
        for key, value in values.items():
            problem = _type_problem(key, value)
            if problem:
                raise bad(key, problem)
        values["betas"] = tuple(float(b) for b in values["betas"])
        for key in ("lr_g", "lr_d"):
            values[key] = float(values[key])
        if "aux_weight" in values:
            values["aux_weight"] = float(values["aux_weight"])
        if values.get("ema") is not None:
            values["ema"] = float(values["ema"])
        config = cls(**values)
        found = config_problem(config)
        if found:
            raise bad(*found)
        return config

    def identity(self) -> dict[str, Any]:
        """The part that must match for a run folder to be resumed with this configuration."""
        return {k: v for k, v in self.as_dict().items() if k not in RUN_SETTINGS}


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}.get(type(value), "a number")


def _is_number(value: Any) -> bool:
    """A JSON number that fits a float (a 400-digit integer does not)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        float(value)
    except OverflowError:
        return False
    return True


def _type_problem(key: str, value: Any) -> str | None:
    """Why ``value`` cannot be the TrainConfig field ``key`` as JSON holds it, or None."""
    if key in _STR_FIELDS:
        return None if isinstance(value, str) else f"must be a string, got {_kind(value)}"
    if key in _INT_FIELDS:
        return None if is_int(value) else f"must be an integer, got {_kind(value)} ({value!r:.40})"
    if key == "aux_weight":
        return None if _is_number(value) else f"must be a number, got {_kind(value)}"
    if key in ("lr_g", "lr_d"):
        if is_int(value) and not _is_number(value):
            return f"must be a number, got an integer too large for a float ({len(str(value))} digits)"
        return None if _is_number(value) else f"must be a number, got {_kind(value)}"
    if key == "betas":
        if isinstance(value, (list, tuple)) and len(value) == 2 and all(_is_number(b) for b in value):
            return None
        return "must be a list of two numbers"
    if key == "ema":
        return None if value is None or _is_number(value) else f"must be a number or null, got {_kind(value)}"
    if key in ("amp", "cuda_graphs"):
        return None if value is None or isinstance(value, bool) else f"must be true, false or null, got {_kind(value)}"
    if key in ("compile", "conditional"):
        return None if isinstance(value, bool) else f"must be true or false, got {_kind(value)}"
    if key in _OPTION_FIELDS:
        if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
            return f"must be an object of option names and values, got {_kind(value)}"
    return None


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


def split_sets(overrides: dict[str, Any] | None) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """``--set`` overrides -> (TrainConfig fields with typed values, raw option values per options field)."""
    top: dict[str, Any] = {}
    nested: dict[str, dict[str, Any]] = {"architecture_options": {}, "loss_options": {}, "data_options": {}}
    for key, value in (overrides or {}).items():
        prefix, dot, rest = key.partition(".")
        if dot:
            if prefix not in PREFIXES or not rest:
                raise UsageError(f"unknown --set key {key!r}; nested keys start with arch., loss. or data.")
            nested[PREFIXES[prefix]][rest] = value
            continue
        for name in set_targets(key):
            if name not in SETTABLE:
                known = ", ".join([*SETTABLE, "lr", "arch", "arch.KEY", "loss.KEY", "data.KEY"])
                raise UsageError(f"unknown --set key {key!r} (known: {known})")
            top[name] = coerce(value, SETTABLE[name], f"--set {key}")
    return top, nested


def set_targets(key: str) -> tuple[str, ...]:
    """The TrainConfig fields a top-level ``--set`` key changes (``lr`` changes both learning rates)."""
    target = ALIASES.get(key, key)
    return target if isinstance(target, tuple) else (target,)


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
    variant_entry = reg.get("variant", variant_name)
    variant = variant_entry.obj
    top, nested = split_sets(overrides)
    # A name in a plugin's recipe means that plugin's own entry when another distribution registers it too.
    homes = {key: None if key in top else variant_entry.distribution for key in ("architecture", "loss")}
    homes["data"] = None if data else variant_entry.distribution

    data_name = data or variant.data
    data_entry = reg.get("dataset", data_name, homes["data"])
    variant = variant.for_data_kind(getattr(data_entry.obj, "kind", "image"))
    loss = top.get("loss", variant.loss)
    architecture = top.get("architecture", variant.architecture)
    arch_entry = reg.get("architecture", architecture, homes["architecture"])
    loss_entry = reg.get("loss", loss, homes["loss"])

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
        architecture=reg.pin("architecture", architecture, homes["architecture"]),
        loss=reg.pin("loss", loss, homes["loss"]),
        data=reg.pin("dataset", data_name, homes["data"]),
        optimizer=top.get("optimizer", variant.optimizer),
        lr_g=top.get("lr_g", variant.lr_g),
        lr_d=top.get("lr_d", variant.lr_d),
        betas=tuple(top.get("betas", variant.betas)),
        batch_size=batch_size if batch_size is not None else top.get("batch_size", variant.batch_size),
        latent_dim=top.get("latent_dim", variant.latent_dim) or 0,
        ema=top["ema"] if "ema" in top else (variant.ema if ema == "variant" else ema),
        steps=steps if steps is not None else variant.steps,
        seed=seed,
        pack=top.get("pack", variant.pack),
        conditional=variant.conditional,
        aux_weight=top.get("aux_weight", variant.aux_weight),
        lr_decay=top.get("lr_decay", variant.lr_decay),
        architecture_options=arch_options,
        loss_options=loss_options,
        data_options=data_options,
        **run_settings,
    )
    check_config(config)
    return config


def set_changes(config: TrainConfig, overrides: dict[str, Any] | None) -> list[tuple[str, str, Any, Any]]:
    """What ``--set`` overrides would change in ``config``, each value resolved as a fresh run resolves it:
    ``(the --set key, the setting, its value in config, the given value)`` for every key that differs."""
    from ganzoo.plugins import registry

    sets = dict(overrides or {})
    _, nested = split_sets(sets)  # unknown keys and bad values fail here, as for a fresh run
    changes: list[tuple[str, str, Any, Any]] = []
    for key, value in sets.items():
        if "." not in key:
            for name in set_targets(key):
                given = coerce(value, SETTABLE[name], f"--set {key}")
                if _plain(given) != _plain(getattr(config, name)):
                    changes.append((key, name, getattr(config, name), given))
    reg = registry()
    resolved: dict[str, dict[str, Any]] = {}
    for field_name, given in nested.items():
        if not given:
            continue
        stored = getattr(config, field_name)
        if field_name == "data_options":
            cls = reg.get("dataset", config.data).obj
            resolved[field_name] = _check_data_options(cls, config.data, {**stored, **given})
        else:
            kind, name = ("architecture", config.architecture) if field_name == "architecture_options" else ("loss", config.loss)
            entry = reg.get(kind, name)
            resolved[field_name] = entry.obj.create(f"{kind} {name!r}", **{**stored, **given}).get_options()
    for key in sets:
        prefix, dot, rest = key.partition(".")
        if dot:
            field_name = PREFIXES[prefix]
            old, new = getattr(config, field_name).get(rest), resolved[field_name].get(rest)
            if _plain(old) != _plain(new):
                changes.append((key, f"{field_name}.{rest}", old, new))
    return changes


def _plain(value: Any) -> Any:
    """``value`` as JSON holds it (tuples as lists), so a stored value compares equal to its typed twin."""
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def fork_config(
    parent: TrainConfig,
    variant_name: str | None = None,
    *,
    data: str | None = None,
    steps: int | None = None,
    batch_size: int | None = None,
    seed: int = 0,
    ema: float | None | Literal["variant"] = "variant",
    overrides: dict[str, Any] | None = None,
    **run_settings: Any,
) -> TrainConfig:
    """A fresh configuration for a new run whose networks start from ``parent``'s weights.

    The networks (architecture, its options, latent size) and the data set come from ``parent`` unless given;
    with the parent's own variant, so do its training settings (loss, optimiser, learning rates, batch, EMA).
    Steps, seed and run settings start afresh; the given flags and ``overrides`` win over everything carried.
    """
    name = variant_name or parent.variant
    given = dict(overrides or {})
    changed = {target for key in given if "." not in key for target in set_targets(key)}
    carried: dict[str, Any] = {}
    if "architecture" not in changed or given.get("arch", given.get("architecture")) == parent.architecture:
        carried["architecture"] = parent.architecture
        carried.update({f"arch.{k}": v for k, v in parent.architecture_options.items()})
    carried["latent_dim"] = parent.latent_dim
    if name == parent.variant:
        if "loss" not in changed or given.get("loss") == parent.loss:
            carried["loss"] = parent.loss
            carried.update({f"loss.{k}": v for k, v in parent.loss_options.items()})
        carried.update({k: getattr(parent, k) for k in ("optimizer", "lr_g", "lr_d", "betas", "batch_size", "pack", "lr_decay")})
        if ema == "variant":
            ema = parent.ema
    data_name = data or parent.data
    if data_name == parent.data:
        carried.update({f"data.{k}": v for k, v in parent.data_options.items()})
    return resolve_config(
        name, data=data_name, steps=steps, batch_size=batch_size, seed=seed, ema=ema,
        overrides={**carried, **given}, **run_settings,
    )


def _check_data_options(cls: type, spec: str, given: dict[str, Any]) -> dict[str, Any]:
    from ganzoo.options import resolve_options
    from ganzoo.plugins import registry

    name, argument = registry().split("dataset", spec)
    if getattr(cls, "takes_argument", False):
        if not argument:
            raise UsageError(f"data set {name!r} needs an argument: --data {name}:VALUE")
        resolved = resolve_options(cls, {"argument": argument, **given}, f"data set {name!r}")
        resolved.pop("argument", None)
        return resolved
    if argument:
        raise UsageError(f"data set {name!r} takes no argument (got {spec!r})")
    return resolve_options(cls, given, f"data set {name!r}")


def fit_intervals(config: TrainConfig, sample_every: Any, ckpt_every: Any, log_every: Any) -> None:
    """Intervals the user left alone shrink to fit short runs (a 100-step run still logs and samples)."""
    if log_every is None:
        config.log_every = max(1, min(config.log_every, config.steps // 10 or 1))
    if sample_every is None:
        config.sample_every = max(1, min(config.sample_every, config.steps))
    if ckpt_every is None:
        config.ckpt_every = max(1, min(config.ckpt_every, config.steps))


def latent_dim_for(config: TrainConfig, sample_shape: tuple[int, ...]) -> int:
    """The latent size (the architecture's default when the config leaves it 0), after checking the
    architecture can make samples of ``sample_shape`` (its UsageError otherwise)."""
    from ganzoo.plugins import registry

    arch = registry().get("architecture", config.architecture).obj.create(**config.architecture_options)
    latent_dim = config.latent_dim or arch.default_latent_dim(tuple(sample_shape))
    arch.check(tuple(sample_shape), latent_dim)
    return latent_dim


def check_config(config: TrainConfig) -> None:
    """Raise a UsageError naming the first value that cannot train (before any data or network is allocated)."""
    found = config_problem(config)
    if found:
        key, problem = found
        label = key.replace("_", "-") if key in _POSITIVE else key
        raise UsageError(f"{label} {problem}")


_POSITIVE = ("steps", "batch_size", "sample_every", "ckpt_every", "log_every", "keep")


def config_problem(config: TrainConfig) -> tuple[str, str] | None:
    """(field, what is wrong with its value) for the first value that cannot train, or None."""
    for name in _POSITIVE:
        value = getattr(config, name)
        if not is_int(value) or value < 1:
            return name, f"must be a positive integer, got {value!r}"
    if config.batch_size > MAX_BATCH_SIZE:
        return "batch_size", f"must be at most {MAX_BATCH_SIZE}, got {config.batch_size}"
    if not is_int(config.latent_dim) or not 0 <= config.latent_dim <= MAX_LATENT_DIM:
        return "latent_dim", f"must be an integer from 1 to {MAX_LATENT_DIM} (0: the architecture's default), got {config.latent_dim!r}"
    if not is_int(config.seed) or not 0 <= config.seed <= MAX_SEED:
        return "seed", f"must be an integer from 0 to {MAX_SEED}, got {config.seed!r}"
    for name in ("lr_g", "lr_d"):
        value = getattr(config, name)
        if not _is_number(value) or not math.isfinite(value) or not value > 0:
            return name, f"must be a finite number > 0, got {value!r}"
    betas = tuple(config.betas)
    if len(betas) != 2 or not all(_is_number(b) and 0.0 <= b < 1.0 for b in betas):
        return "betas", f"must be two numbers each in [0, 1), e.g. (0.5,0.999); got {betas!r}"
    if config.ema is not None and not (_is_number(config.ema) and 0.0 < config.ema < 1.0):
        return "ema", f"must be a decay in (0, 1) or none, got {config.ema!r}"
    if not _is_number(config.aux_weight) or not math.isfinite(config.aux_weight) or not 0 <= config.aux_weight <= 100:
        return "aux_weight", f"must be a number from 0 to 100 (0: a projection discriminator), got {config.aux_weight!r}"
    if config.aux_weight and not config.conditional:
        return "aux_weight", "only weighs a class-conditional variant's auxiliary classifier (acgan); this variant is not class-conditional"
    if config.lr_decay not in LR_DECAYS:
        return "lr_decay", f"must be one of {', '.join(LR_DECAYS)}, got {config.lr_decay!r}"
    if config.optimizer not in ("adam", "rmsprop"):
        return "optimizer", f"must be adam or rmsprop, got {config.optimizer!r}"
    if not is_int(config.pack) or not 1 <= config.pack <= MAX_PACK:
        return "pack", f"must be an integer from 1 to {MAX_PACK} (samples the discriminator judges together; 1: no packing), got {config.pack!r}"
    if config.batch_size % config.pack:
        fit = config.batch_size - config.batch_size % config.pack or config.pack
        return "pack", (
            f"{config.pack} does not divide batch_size {config.batch_size} (every pack must be all real or all fake); "
            f"use a batch size that is a multiple of {config.pack}, e.g. --batch-size {fit}"
        )
    return None

"""The training settings: each declared once on TrainConfig, and resolved from a variant, flags and ``--set``."""

from __future__ import annotations

import dataclasses
import functools
import math
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, get_args

from ganzoo.errors import GanzooError, UsageError
from ganzoo.limits import MAX_LATENT_DIM, MAX_PACK
from ganzoo.options import coerce, type_name
from ganzoo.records import from_json, json_problem
from ganzoo.values import as_json, is_int, is_number, json_kind
from ganzoo.variant import LrDecay, Optimizer

ALIASES = {"arch": "architecture", "lr": ("lr_g", "lr_d")}
PREFIXES = {
    "arch": "architecture_options",
    "architecture": "architecture_options",
    "loss": "loss_options",
    "data": "data_options",
}
# Bounds checked before anything is allocated (the latent limit is the one generator folders use).
MAX_BATCH_SIZE = 65536
MAX_SEED = 2**32 - 1
LR_DECAYS = get_args(LrDecay)
OPTIMIZERS = get_args(Optimizer)
SETTING = "ganzoo.setting"  # the key of a TrainConfig field's metadata that holds its Setting


class RunConfigError(GanzooError):
    """A run folder's config.json that is missing a key, holds a wrong type or an impossible value."""


@dataclass(frozen=True)
class Setting:
    """The one declaration of a TrainConfig field; every table, check and relay of training settings reads it.

    ``kind`` (the field's annotation) is the type ``--set`` reads and config.json holds; ``check(value, config)``
    says what is wrong with a value of that type, or None. ``settable``: ``--set NAME=VALUE`` may change it.
    ``variant``: a variant's recipe gives its value (a recipe without the field leaves the declared default).
    ``resume``: "identity", ``--resume`` may only repeat it; "run", it may change when a run resumes. ``init_from``:
    whether a run started ``--init-from`` a parent keeps the parent's value: "always", under the parent's own
    variant ("same variant"), on the parent's data set ("same data"), or never ("afresh"). ``optimizer``:
    the ``torch.optim`` keyword it is passed as, to the ``optimizers`` that take it. ``packaged``: a generator
    folder's config.json records it under "training": "always", "not-default" (when it differs from ``default``)
    or "no". ``flag``: its ``ganzoo train`` option, when it has one.
    """

    doc: str
    check: Callable[[Any, Any], str | None] | None = None
    settable: bool = False
    variant: bool = False
    resume: Literal["identity", "run"] = "identity"
    init_from: Literal["afresh", "always", "same variant", "same data"] = "afresh"
    optimizer: str | None = None
    optimizers: tuple[str, ...] = OPTIMIZERS
    packaged: Literal["always", "not-default", "no"] = "no"
    flag: str | None = None
    name: str = ""
    kind: Any = None
    default: Any = None
    required: bool = False  # no default: config.json must hold it (others read as their default when it lacks them)

    @property
    def label(self) -> str:
        """How an error names it: the flag's word when there is one (``batch-size``), else the field."""
        return self.flag.removeprefix("--") if self.flag else self.name


def setting(
    doc: str, default: Any = dataclasses.MISSING, *, factory: Any = dataclasses.MISSING, **declared: Any
) -> Any:
    """A TrainConfig field declared once: its default (or ``factory``) and a Setting made of ``doc`` and
    ``declared``."""
    return dataclasses.field(default=default, default_factory=factory, metadata={SETTING: Setting(doc, **declared)})


def recipe_setting(doc: str, default: Any = dataclasses.MISSING, **declared: Any) -> Any:
    """A setting of a variant's recipe: the variant gives it, ``--set`` may change it, and a run started
    ``--init-from`` a parent under the parent's own variant keeps the parent's value (``declared`` may say
    otherwise)."""
    return setting(doc, default, **{"settable": True, "variant": True, "init_from": "same variant", **declared})


# ---- checks of a value of the right type (value, config) -> what is wrong, or None ----------------------------------


def _positive(value: Any, config: Any = None) -> str | None:
    return None if is_int(value) and value >= 1 else f"must be a positive integer, got {value!r}"


def _batch_size(value: Any, config: Any) -> str | None:
    if _positive(value):
        return _positive(value)
    return None if value <= MAX_BATCH_SIZE else f"must be at most {MAX_BATCH_SIZE}, got {value}"


def _positive_number(value: Any, config: Any) -> str | None:
    ok = is_number(value) and math.isfinite(value) and value > 0
    return None if ok else f"must be a finite number > 0, got {value!r}"


def _betas(value: Any, config: Any) -> str | None:
    betas = tuple(value)
    if len(betas) == 2 and all(is_number(b) and 0.0 <= b < 1.0 for b in betas):
        return None
    return f"must be two numbers each in [0, 1), e.g. (0.5,0.999); got {betas!r}"


def _latent_dim(value: Any, config: Any) -> str | None:
    if is_int(value) and 0 <= value <= MAX_LATENT_DIM:
        return None
    return f"must be an integer from 1 to {MAX_LATENT_DIM} (0: the architecture's default), got {value!r}"


def _seed(value: Any, config: Any) -> str | None:
    return (
        None if is_int(value) and 0 <= value <= MAX_SEED else f"must be an integer from 0 to {MAX_SEED}, got {value!r}"
    )


def _ema(value: Any, config: Any) -> str | None:
    ok = value is None or (is_number(value) and 0.0 < value < 1.0)
    return None if ok else f"must be a decay in (0, 1) or none, got {value!r}"


def _aux_weight(value: Any, config: Any) -> str | None:
    if not is_number(value) or not math.isfinite(value) or not 0 <= value <= 100:
        return f"must be a number from 0 to 100 (0: a projection discriminator), got {value!r}"
    if value and not config.conditional:
        return (
            "only weighs a class-conditional variant's auxiliary classifier (acgan); "
            "this variant is not class-conditional"
        )
    return None


def _one_of(choices: tuple[str, ...]) -> Callable[[Any, Any], str | None]:
    def check(value: Any, config: Any) -> str | None:
        return None if value in choices else f"must be one of {', '.join(choices)}, got {value!r}"

    return check


def _pack(value: Any, config: Any) -> str | None:
    if not is_int(value) or not 1 <= value <= MAX_PACK:
        return (
            f"must be an integer from 1 to {MAX_PACK} (samples the discriminator judges together; 1: no packing), "
            f"got {value!r}"
        )
    if config.batch_size % value:
        fit = config.batch_size - config.batch_size % value or value
        return (
            f"{value} does not divide batch_size {config.batch_size} (every pack must be all real or all fake); "
            f"use a batch size that is a multiple of {value}, e.g. --batch-size {fit}"
        )
    return None


@dataclass
class TrainConfig:
    """Everything that decides what a run trains; ``config.json`` in the run folder holds it.

    Each field is declared once, with ``setting``: docs/settings.md, ``ganzoo info``, ``--set``, the checks, the
    resume rules and what a generator folder records are all read from these declarations.
    """

    variant: str = setting("the variant (recipe) the run started from")
    architecture: str = setting("the architecture plugin that builds both networks", settable=True, init_from="always")
    loss: str = setting(
        "the loss plugin: the adversarial objective and its regulariser", settable=True, init_from="same variant"
    )
    data: str = setting("the data set, with its argument (folder:PATH)", init_from="always", flag="--data")
    optimizer: Optimizer = recipe_setting(
        "the optimiser of both networks", check=_one_of(OPTIMIZERS), packaged="always"
    )
    lr_g: float = recipe_setting(
        "the generator's learning rate (--set lr=X sets both)",
        check=_positive_number,
        optimizer="lr",
        packaged="always",
    )
    lr_d: float = recipe_setting(
        "the discriminator's learning rate", check=_positive_number, optimizer="lr", packaged="always"
    )
    betas: tuple[float, float] = recipe_setting(
        "Adam's decay rates of the gradient's mean and square",
        check=_betas,
        optimizer="betas",
        optimizers=("adam",),
        packaged="always",
    )
    batch_size: int = recipe_setting(
        "samples per step and process", check=_batch_size, packaged="always", flag="--batch-size"
    )
    latent_dim: int = recipe_setting(
        "the noise size (0: the architecture's default for the data)", check=_latent_dim, init_from="always"
    )
    ema: float | None = recipe_setting(
        "decay of the generator's exponential moving average (none: no EMA)", check=_ema, flag="--ema"
    )
    steps: int = setting("generator steps in all", check=_positive, variant=True, resume="run", flag="--steps")
    seed: int = setting("seeds the networks, the noise and the batches", 0, check=_seed, flag="--seed")
    # a run folder written before packing existed has no "pack" key and reads as 1
    pack: int = recipe_setting(
        "samples the discriminator judges together (PacGAN packing; 1: none); divides batch_size", 1, check=_pack
    )
    # older run folders have no key and read as False
    conditional: bool = setting("class-conditional networks, G(z, y) and a projection D(x, y)", False, variant=True)
    aux_weight: float = recipe_setting(
        "> 0: an auxiliary-classifier discriminator (ACGAN) whose class cross-entropy both players add, this weighed",
        0.0,
        check=_aux_weight,
        init_from="afresh",
    )
    # older run folders have no key and read as "none" (constant rates)
    lr_decay: LrDecay = recipe_setting(
        "learning-rate schedule: none (constant) or linear (down to 0 at the last step)",
        "none",
        check=_one_of(LR_DECAYS),
        packaged="not-default",
    )
    # older run folders have no key and read as 1e-8, the optimisers' own default
    eps: float = recipe_setting(
        "the optimiser's epsilon, added to the root of the squared-gradient average before dividing",
        1e-8,
        check=_positive_number,
        optimizer="eps",
        packaged="not-default",
    )
    architecture_options: dict[str, Any] = setting(
        "the architecture's options (--set arch.KEY=VALUE)", factory=dict, init_from="always"
    )
    loss_options: dict[str, Any] = setting(
        "the loss's options (--set loss.KEY=VALUE)", factory=dict, packaged="always", init_from="same variant"
    )
    data_options: dict[str, Any] = setting(
        "the data set's options (--set data.KEY=VALUE)", factory=dict, init_from="same data"
    )
    device: str = setting("auto, cpu, cuda, cuda:K or mps", "auto", resume="run", flag="--device")
    amp: bool | None = setting(
        "bf16 autocast (none: on for CUDA and CPUs with native bf16)", None, resume="run", flag="--amp"
    )
    compile: bool = setting("torch.compile the networks", False, resume="run", flag="--compile")
    cuda_graphs: bool | None = setting(
        "the whole step captured in one CUDA graph and replayed (none: on when training on CUDA)",
        None,
        resume="run",
        flag="--cuda-graphs",
    )
    sample_every: int = setting("steps between sample grids", 500, check=_positive, resume="run", flag="--sample-every")
    ckpt_every: int = setting("steps between checkpoints", 500, check=_positive, resume="run", flag="--ckpt-every")
    log_every: int = setting("steps between logged losses", 50, check=_positive, resume="run", flag="--log-every")
    keep: int = setting("checkpoints kept", 3, check=_positive, resume="run", flag="--keep")

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
            raise bad("", f"must be a JSON object of training settings, got {json_kind(data)}")
        declared = settings()
        unknown = sorted(str(k) for k in data if k not in declared)
        if unknown:
            raise bad(unknown[0], "is not a setting ganzoo knows (a newer ganzoo's run, or an edited file)")
        missing = [name for name, s in declared.items() if name not in data and s.required]
        if missing:
            raise bad(missing[0], "is missing")
        values = {}
        for key, value in data.items():
            problem = json_problem(value, declared[key].kind)
            if problem:
                raise bad(key, problem)
            values[key] = from_json(value, declared[key].kind)
        config = cls(**values)
        found = config_problem(config)
        if found:
            raise bad(*found)
        return config

    def identity(self) -> dict[str, Any]:
        """The part that must match for a run folder to be resumed with this configuration."""
        return {k: v for k, v in self.as_dict().items() if settings()[k].resume == "identity"}


@functools.cache
def settings() -> dict[str, Setting]:
    """Every TrainConfig field's declaration, in field order, with its name, type and default filled in."""
    hints = typing.get_type_hints(TrainConfig)
    found = {}
    for f in dataclasses.fields(TrainConfig):
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
        found[f.name] = dataclasses.replace(
            f.metadata[SETTING],
            name=f.name,
            kind=hints[f.name],
            default=None if required else default,
            required=required,
        )
    return found


def settable() -> dict[str, Any]:
    """The fields ``--set KEY=VALUE`` may change directly, with their types."""
    return {name: s.kind for name, s in settings().items() if s.settable}


def run_settings() -> tuple[str, ...]:
    """The fields that may differ between a run and its resumption."""
    return tuple(name for name, s in settings().items() if s.resume == "run")


def optimizer_keywords(config: TrainConfig) -> dict[str, Any]:
    """The keywords ``config`` passes to its ``torch.optim`` optimiser besides the learning rate (each network's
    own): ``{"betas": (0.5, 0.999)}`` for Adam."""
    return {
        s.optimizer: tuple(getattr(config, name)) if isinstance(getattr(config, name), list) else getattr(config, name)
        for name, s in settings().items()
        if s.optimizer and s.optimizer != "lr" and config.optimizer in s.optimizers
    }


def packaged(config: dict[str, Any]) -> dict[str, Any]:
    """The training settings a generator folder's config.json records under "training", from a run's config."""
    declared = settings()
    return {
        name: value
        for name, value in config.items()
        if name in declared
        and (
            declared[name].packaged == "always"
            or (declared[name].packaged == "not-default" and as_json(value) != as_json(declared[name].default))
        )
    }


def settings_table(values: Any = None) -> list[dict[str, Any]]:
    """One row per setting, as ``ganzoo info`` and docs/settings.md show them: name, type, default (``values``'
    own when given: a variant's recipe), what ``--set``, ``--resume`` and packaging do with it, its flag and doc."""
    rows = []
    for name, s in settings().items():
        default = getattr(values, name, s.default) if values is not None and s.variant else s.default
        rows.append(
            {
                "name": name,
                "type": type_name(s.kind),
                "default": as_json(default),
                "set": s.settable,
                "resume": "may change" if s.resume == "run" else "must match",
                "init_from": s.init_from,
                "optimizer": s.optimizer and f"{s.optimizer} ({', '.join(s.optimizers)})",
                "packaged": s.packaged,
                "flag": s.flag,
                "doc": s.doc,
            }
        )
    return rows


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
        kinds = settable()
        for name in set_targets(key):
            if name not in kinds:
                known = ", ".join([*kinds, "lr", "arch", "arch.KEY", "loss.KEY", "data.KEY"])
                raise UsageError(f"unknown --set key {key!r} (known: {known})")
            top[name] = coerce(value, kinds[name], f"--set {key}")
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

    # Every setting a recipe gives, unless --set changes it (a recipe without it leaves the declared default).
    values = {name: top.get(name, getattr(variant, name, s.default)) for name, s in settings().items() if s.variant}
    values.update(
        variant=variant_name,
        architecture=reg.pin("architecture", architecture, homes["architecture"]),
        loss=reg.pin("loss", loss, homes["loss"]),
        data=reg.pin("dataset", data_name, homes["data"]),
        betas=tuple(values["betas"]),
        latent_dim=values["latent_dim"] or 0,
        seed=seed,
        architecture_options=arch_options,
        loss_options=loss_options,
        data_options=data_options,
        **run_settings,
    )
    if batch_size is not None:
        values["batch_size"] = batch_size
    if steps is not None:
        values["steps"] = steps
    if "ema" not in top and ema != "variant":
        values["ema"] = ema
    config = TrainConfig(**values)
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
                given = coerce(value, settable()[name], f"--set {key}")
                if as_json(given) != as_json(getattr(config, name)):
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
            kind, name = (
                ("architecture", config.architecture) if field_name == "architecture_options" else ("loss", config.loss)
            )
            entry = reg.get(kind, name)
            resolved[field_name] = entry.obj.create(f"{kind} {name!r}", **{**stored, **given}).get_options()
    for key in sets:
        prefix, dot, rest = key.partition(".")
        if dot:
            field_name = PREFIXES[prefix]
            old, new = getattr(config, field_name).get(rest), resolved[field_name].get(rest)
            if as_json(old) != as_json(new):
                changes.append((key, f"{field_name}.{rest}", old, new))
    return changes


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
        # the rest of the recipe's settings (the loss, its options and EMA have their own rules above and below)
        carried.update(
            {
                name: getattr(parent, name)
                for name, s in settings().items()
                if s.init_from == "same variant" and s.settable and name not in ("loss", "ema")
            }
        )
        if ema == "variant":
            ema = parent.ema
    data_name = data or parent.data
    if data_name == parent.data:
        carried.update({f"data.{k}": v for k, v in parent.data_options.items()})
    return resolve_config(
        name,
        data=data_name,
        steps=steps,
        batch_size=batch_size,
        seed=seed,
        ema=ema,
        overrides={**carried, **given},
        **run_settings,
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
        raise UsageError(f"{settings()[key].label} {problem}")


def config_problem(config: TrainConfig) -> tuple[str, str] | None:
    """(field, what is wrong with its value) for the first value that cannot train, or None."""
    for name, s in settings().items():
        problem = s.check(getattr(config, name), config) if s.check else None
        if problem:
            return name, problem
    return None

"""The catalogue of pretrained generators: entries plugins register (recipe, weights, scores), loaded by name,
made again and scored again by ``ganzoo.zoo_build``."""

from __future__ import annotations

import difflib
import json
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from ganzoo.errors import GanzooError, PluginError, UnknownNameError, UsageError, fold

if TYPE_CHECKING:
    import torch

    from ganzoo.generator import Generator
    from ganzoo.registry import Entry

__all__ = [
    "Pretrained",
    "ChecksumError",
    "PREFIX",
    "list_pretrained",
    "get_pretrained",
    "load_pretrained",
    "catalogue",
    "sha256_of",
]

PREFIX = "zoo:"  # ``zoo:NAME`` always means the catalogue
DTYPES = ("float32", "float16")
SPLITS = ("train", "test", "all")
_EVALUATION_KEYS = ("metrics", "n", "split", "seed", "features", "data", "options")
# what the registry accepts as a name, optionally qualified by its distribution (DISTRIBUTION:NAME)
_NAME = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*:)?[A-Za-z0-9][A-Za-z0-9_.+-]*$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_HEX40 = re.compile(r"^[0-9a-f]{40}$")
_LICENSE = re.compile(r"^[a-z0-9][a-z0-9.+-]{0,63}$")
_SET = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*=")
MAX_DESCRIPTION = 200


class ChecksumError(GanzooError):
    """A pretrained generator's weights file whose sha256 is not the one its catalogue entry records."""


# --------------------------------------------------------------------------------------------------------------------
# One catalogue entry


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _figure(value: Any) -> float | str | None:
    """A recorded or measured value as the catalogue stores it: a finite float, "inf"/"-inf", or None (NaN)."""
    if value is None or value in ("inf", "-inf"):
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{value!r} is no number")
    value = float(value)
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return None if math.isnan(value) else value


def _plain(value: Any) -> Any:
    """A JSON-able deep copy (tuples become lists); a TypeError for anything JSON cannot hold."""
    return json.loads(json.dumps(value, allow_nan=False))


@dataclass(frozen=True, kw_only=True)
class Pretrained:
    """A pretrained generator in the catalogue: how it was made, where its weights live, and what it scored.

    ``register(name, Pretrained(...))`` in a plugin's ``register_pretrained`` hook adds it; ``ganzoo zoo`` lists
    the catalogue, ``ganzoo.load_generator(name)`` loads it (its model.safetensors checked against ``sha256``
    first), ``ganzoo zoo build NAME`` makes it again from the recipe and ``ganzoo zoo verify NAME`` scores it again.
    A malformed entry raises PluginError here, so the plugin registering it is reported and skipped.
    """

    description: str  # one line
    # the recipe, as `ganzoo train VARIANT --data DATA --set K=V ... --steps N --batch-size B --seed S`
    variant: str
    steps: int
    data: str | None = None  # None: the variant's own data set
    sets: tuple[str, ...] = ()
    batch_size: int | None = None  # None: the variant's
    seed: int = 0
    # where the weights live: a generator folder shipped in the plugin's package, and/or a Hub repo at a commit
    folder: Path | None = None
    hub_repo: str | None = None
    hub_revision: str | None = None  # 40 hex digits
    sha256: str | None = None  # of model.safetensors; None while the entry is not built yet (it cannot be loaded)
    size: int | None = None  # bytes of model.safetensors, given with sha256
    dtype: str = "float32"  # what model.safetensors stores: float32 or float16
    license: str  # a Hub licence id: apache-2.0, mit, cc-by-4.0, other, ...
    # how it was scored (the arguments of ganzoo eval), what it scored, and how far a re-measurement may stray
    evaluation: Mapping[str, Any] = field(default_factory=dict)
    metrics: tuple[Mapping[str, Any], ...] = ()
    tolerance: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        def bad(message: str) -> PluginError:
            label = self.description if isinstance(self.description, str) else self.variant
            return PluginError(f"Pretrained({fold(repr(label), 60)}): {message}")

        def put(name: str, value: Any) -> None:
            object.__setattr__(self, name, value)

        if not isinstance(self.description, str) or not self.description.strip() or "\n" in self.description:
            raise bad(f"description must be one line of text, got {self.description!r}")
        if len(self.description) > MAX_DESCRIPTION:
            raise bad(f"description must be at most {MAX_DESCRIPTION} characters")
        if not isinstance(self.variant, str) or not _NAME.match(self.variant):
            raise bad(f"variant must be a variant name (see: ganzoo list variants), got {self.variant!r}")
        if self.data is not None and (not isinstance(self.data, str) or not self.data.strip()):
            raise bad(f"data must be a data-set name or None, got {self.data!r}")
        if isinstance(self.sets, str) or not isinstance(self.sets, (tuple, list)):
            raise bad(f"sets must be a tuple of 'KEY=VALUE' strings, got {self.sets!r}")
        for item in self.sets:
            if not isinstance(item, str) or not _SET.match(item):
                raise bad(f"sets must hold 'KEY=VALUE' strings as ganzoo train --set takes them, got {item!r}")
        put("sets", tuple(self.sets))
        if not _is_int(self.steps) or self.steps < 1:
            raise bad(f"steps must be a positive integer, got {self.steps!r}")
        if self.batch_size is not None and (not _is_int(self.batch_size) or self.batch_size < 1):
            raise bad(f"batch_size must be a positive integer or None, got {self.batch_size!r}")
        if not _is_int(self.seed):
            raise bad(f"seed must be an integer, got {self.seed!r}")

        if self.folder is not None:
            if not isinstance(self.folder, (str, os.PathLike)):
                raise bad(f"folder must be a path, got {self.folder!r}")
            put("folder", Path(self.folder))
            if not self.folder.is_absolute():
                raise bad(f"folder must be an absolute path (e.g. Path(__file__).parent / 'pretrained' / NAME), got {str(self.folder)!r}")
        if self.hub_repo is not None:
            from ganzoo.hub import check_repo_id

            try:
                check_repo_id(self.hub_repo)
            except UsageError:
                raise bad(f"hub_repo must be a Hub repo id (namespace/name), got {self.hub_repo!r}") from None
        if self.hub_revision is not None:
            if self.hub_repo is None:
                raise bad("hub_revision is given without hub_repo")
            if not isinstance(self.hub_revision, str) or not _HEX40.match(self.hub_revision):
                raise bad(f"hub_revision must be a commit: 40 lower-case hex digits, got {self.hub_revision!r}")
        if self.folder is None and self.hub_repo is None:
            raise bad("say where the weights live: folder (shipped in the plugin's package), hub_repo, or both")
        if self.sha256 is not None:
            if not isinstance(self.sha256, str) or not _HEX64.match(self.sha256):
                raise bad(f"sha256 must be 64 lower-case hex digits, got {self.sha256!r}")
            if not _is_int(self.size) or self.size < 1:
                raise bad(f"size (bytes of model.safetensors) must be a positive integer with sha256, got {self.size!r}")
            if self.hub_repo is not None and self.hub_revision is None:
                raise bad(f"hub_revision must pin the commit of {self.hub_repo} that holds these weights")
        elif self.size is not None:
            raise bad("size is given without sha256")
        if self.dtype not in DTYPES:
            raise bad(f"dtype must be one of {', '.join(DTYPES)}, got {self.dtype!r}")
        if not isinstance(self.license, str) or not _LICENSE.match(self.license):
            raise bad(f"license must be a Hub licence id (lower case: apache-2.0, mit, cc-by-4.0, other, ...), got {self.license!r}")

        put("evaluation", self._check_evaluation(bad))
        put("metrics", self._check_metrics(bad))
        put("tolerance", self._check_tolerance(bad))

    def _check_evaluation(self, bad: Callable[[str], PluginError]) -> dict[str, Any]:
        given = self.evaluation
        if not isinstance(given, Mapping):
            raise bad(f"evaluation must be a dict of ganzoo eval's settings ({', '.join(_EVALUATION_KEYS)}), got {given!r}")
        unknown = sorted(str(k) for k in given if k not in _EVALUATION_KEYS)
        if unknown:
            raise bad(f"evaluation has an unknown key {unknown[0]!r} (known: {', '.join(_EVALUATION_KEYS)})")
        names = given.get("metrics")
        if isinstance(names, str):
            names = [part.strip() for part in names.split(",") if part.strip()]
        if not isinstance(names, (list, tuple)) or not names or not all(isinstance(m, str) and _NAME.match(m) for m in names):
            raise bad(f"evaluation['metrics'] must name the metrics scored (e.g. ['fid', 'prdc']), got {given.get('metrics')!r}")
        n = given.get("n")
        if not _is_int(n) or n < 1:
            raise bad(f"evaluation['n'] must be the positive number of samples scored, got {n!r}")
        split = given.get("split", "test")
        if split not in SPLITS:
            raise bad(f"evaluation['split'] must be one of {', '.join(SPLITS)}, got {split!r}")
        seed = given.get("seed", 0)
        if not _is_int(seed):
            raise bad(f"evaluation['seed'] must be an integer, got {seed!r}")
        for key in ("features", "data"):
            value = given.get(key)
            if value is not None and (not isinstance(value, str) or not value.strip()):
                raise bad(f"evaluation[{key!r}] must be a name or None, got {value!r}")
        options = given.get("options") or {}
        if not isinstance(options, Mapping) or not all(isinstance(k, str) and isinstance(v, Mapping) for k, v in options.items()):
            raise bad(f"evaluation['options'] must be {{metric: {{key: value}}}}, got {options!r}")
        try:
            options = _plain(options)
        except (TypeError, ValueError):
            raise bad("evaluation['options'] must hold plain JSON values") from None
        return {"metrics": list(dict.fromkeys(names)), "n": n, "split": split, "seed": seed,
                "features": given.get("features"), "data": given.get("data"), "options": options}

    def _check_metrics(self, bad: Callable[[str], PluginError]) -> tuple[dict[str, Any], ...]:
        if isinstance(self.metrics, (str, Mapping)) or not isinstance(self.metrics, (list, tuple)):
            raise bad(f"metrics must be a list of {{'metric', 'values', 'protocol'}} dicts, got {fold(repr(self.metrics), 80)}")
        found = []
        for i, item in enumerate(self.metrics):
            if (
                not isinstance(item, Mapping)
                or not isinstance(item.get("metric"), str)
                or not isinstance(item.get("values"), Mapping)
                or not item["values"]
                or not isinstance(item.get("protocol", {}), Mapping)
                or set(item) - {"metric", "values", "protocol"}
            ):
                raise bad(f"metrics[{i}] must be {{'metric': name, 'values': {{name: number}}, 'protocol': {{...}}}}")
            try:
                values = {str(k): _figure(v) for k, v in item["values"].items()}
                protocol = _plain(dict(item.get("protocol") or {}))
            except (TypeError, ValueError):
                raise bad(f"metrics[{i}] ({item['metric']}) must hold numbers, 'inf', '-inf' or None, and a plain JSON protocol") from None
            found.append({"metric": item["metric"], "values": values, "protocol": protocol})
        names = [item["metric"] for item in found]
        if len(set(names)) != len(names):
            raise bad(f"metrics lists {min(n for n in names if names.count(n) > 1)!r} twice")
        if found and set(names) != set(self.evaluation["metrics"]):
            raise bad(f"metrics must be the figures of evaluation['metrics'] ({', '.join(self.evaluation['metrics'])}); they are of {', '.join(names)}")
        if self.sha256 is not None and not found:
            raise bad("an entry with weights (sha256) must record the metrics they scored (ganzoo zoo build prints them)")
        return tuple(found)

    def _check_tolerance(self, bad: Callable[[str], PluginError]) -> dict[str, float]:
        if not isinstance(self.tolerance, Mapping):
            raise bad(f"tolerance must be a dict {{value name: absolute tolerance}}, got {self.tolerance!r}")
        found = {}
        for key, value in self.tolerance.items():
            if not isinstance(key, str) or isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
                raise bad(f"tolerance[{key!r}] must be a finite number >= 0, got {value!r}")
            found[key] = float(value)
        wanted = [(item["metric"], name) for item in self.metrics for name in item["values"]]
        for metric, name in wanted:
            if f"{metric}.{name}" not in found and name not in found:
                raise bad(f"tolerance has no entry for {metric}'s value {name!r} (key {name!r} or {metric + '.' + name!r})")
        known = {name for _, name in wanted} | {f"{metric}.{name}" for metric, name in wanted}
        extra = sorted(k for k in found if k not in known)
        if extra and wanted:
            raise bad(f"tolerance names {extra[0]!r}, which no recorded metric reports")
        return found

    # ------------------------------------------------------------------------------------------------------------

    def describe(self) -> str:
        """The one-line description ``ganzoo list pretrained`` shows."""
        return self.description

    @property
    def published(self) -> bool:
        """True once the entry records its weights' sha256 (an entry being prepared has none and cannot be loaded)."""
        return self.sha256 is not None

    def tolerance_for(self, metric: str, value: str) -> float:
        """The absolute tolerance of ``metric``'s value ``value`` (``metric.value`` before ``value``)."""
        return self.tolerance.get(f"{metric}.{value}", self.tolerance.get(value, 0.0))

    def headline(self) -> str:
        """The first value of every recorded metric, e.g. ``fid=12.3, modes=8``."""
        parts = []
        for item in self.metrics:
            name, value = next(iter(item["values"].items()))
            parts.append(f"{name}={value:.4g}" if isinstance(value, float) else f"{name}={value}")
        return ", ".join(parts)

    def recipe(self) -> str:
        """The ``ganzoo train`` command line of the recipe."""
        import shlex

        words = ["ganzoo", "train", self.variant]
        if self.data:
            words += ["--data", self.data]
        for pair in self.sets:
            words += ["--set", pair]
        words += ["--steps", str(self.steps)]
        if self.batch_size is not None:
            words += ["--batch-size", str(self.batch_size)]
        words += ["--seed", str(self.seed)]
        return shlex.join(words)

    def as_dict(self) -> dict[str, Any]:
        """Every field as plain JSON values."""
        return {
            "description": self.description,
            "variant": self.variant,
            "data": self.data,
            "sets": list(self.sets),
            "steps": self.steps,
            "batch_size": self.batch_size,
            "seed": self.seed,
            "folder": str(self.folder) if self.folder is not None else None,
            "hub_repo": self.hub_repo,
            "hub_revision": self.hub_revision,
            "sha256": self.sha256,
            "size": self.size,
            "dtype": self.dtype,
            "license": self.license,
            "evaluation": dict(self.evaluation),
            "metrics": [dict(item) for item in self.metrics],
            "tolerance": dict(self.tolerance),
        }


# --------------------------------------------------------------------------------------------------------------------
# The catalogue: what the loaded plugins registered


def _registry() -> Any:
    from ganzoo.plugins import registry

    return registry()


def list_pretrained(pattern: str = "*") -> list[str]:
    """Names of catalogue entries matching the fnmatch ``pattern``, naturally sorted."""
    reg = _registry()
    return [reg.name_for(e) for e in reg.list("pretrained", pattern)]


def entry(name: str) -> Entry:
    """The registry entry of catalogue entry ``name`` (the Pretrained and the plugin that registered it)."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise UnknownNameError(f"{name!r} is no pretrained generator name (see: ganzoo zoo)")
    return _registry().get("pretrained", name)


def get_pretrained(name: str) -> Pretrained:
    """The catalogue entry called ``name``; an unknown name raises UnknownNameError with suggestions."""
    return entry(name).obj


def is_registered(name: str) -> bool:
    """True when ``name`` is a catalogue entry's name."""
    return isinstance(name, str) and bool(_NAME.match(name)) and ("pretrained", name) in _registry()


def unknown_source(spec: str) -> UnknownNameError:
    """The error for a source that is no folder, no Hub repo id and no catalogue name, with close catalogue names."""
    names = list_pretrained()
    close = difflib.get_close_matches(spec, names, n=3, cutoff=0.5)
    hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    return UnknownNameError(
        f"{spec!r} is no pretrained generator, no folder here and no Hub repo id (namespace/name){hint} (see: ganzoo zoo)"
    )


def sha256_of(path: str | os.PathLike) -> str:
    """The sha256 of a file, read in chunks."""
    from ganzoo.files import sha256_file

    return sha256_file(path)


def _origin(e: Entry) -> str:
    return f"pretrained generator {e.name!r} (plugin {e.plugin}, {e.distribution} {e.version})".replace(" )", ")")


def _shipped(p: Pretrained) -> Path | None:
    """The shipped folder when it holds the weights, else None."""
    from ganzoo.folder import CONFIG_FILE, WEIGHTS_FILE

    if p.folder is not None and (p.folder / WEIGHTS_FILE).is_file() and (p.folder / CONFIG_FILE).is_file():
        return p.folder
    return None


def _cached(p: Pretrained, filename: str) -> Path | None:
    from ganzoo.hub import cached_file

    return cached_file(p.hub_repo, filename, p.hub_revision) if p.hub_repo and p.hub_revision else None


def available_offline(p: Pretrained) -> bool:
    """True when the weights can be loaded with no network: shipped, or config and weights in the Hub cache."""
    from ganzoo.folder import CONFIG_FILE, WEIGHTS_FILE

    if _shipped(p) is not None:
        return True
    return _cached(p, CONFIG_FILE) is not None and _cached(p, WEIGHTS_FILE) is not None


def where_weights(p: Pretrained) -> str:
    """``shipped``, ``hub ns/name@abcdef123456``, or both."""
    places = []
    if p.folder is not None:
        places.append("shipped")
    if p.hub_repo is not None:
        places.append(f"hub {p.hub_repo}@{(p.hub_revision or 'unpinned')[:12]}")
    return " + ".join(places)


def _fetch(e: Entry, filename: str, token: str | None, required: bool = True) -> tuple[Path | None, bool]:
    """(path, shipped?) of one file of a catalogue entry: from its shipped folder, else downloaded at its pinned commit."""
    from ganzoo.hub import HubError, MissingFileError, _download, _offline

    p: Pretrained = e.obj
    shipped = _shipped(p)
    if shipped is not None:
        path = shipped / filename
        return (path if path.is_file() else None), True
    if p.hub_repo is None:
        from ganzoo.folder import CONFIG_FILE, WEIGHTS_FILE

        raise GanzooError(
            f"{_origin(e)}: its shipped folder {p.folder} lacks {CONFIG_FILE} or {WEIGHTS_FILE} (the plugin was "
            f"installed without its package data); reinstall it: ganzoo install --force-reinstall {e.distribution}"
        )
    if _offline() and _cached(p, filename) is None:
        if not required:
            return None, False
        raise GanzooError(
            f"{_origin(e)} lives on the Hub ({p.hub_repo}@{p.hub_revision}) and is not in the local cache, and "
            f"HF_HUB_OFFLINE=1 forbids downloads; load it once while online (ganzoo sample {e.name}), or unset HF_HUB_OFFLINE"
        )
    try:
        return _download(p.hub_repo, filename, p.hub_revision, token), False
    except MissingFileError:
        if required:
            raise
        return None, False
    except HubError as exc:
        raise HubError(f"{_origin(e)}: {exc}") from None


def check_weights(e: Entry, path: Path, shipped: bool) -> None:
    """Refuse a weights file whose sha256 is not the entry's (before anything parses it)."""
    p: Pretrained = e.obj
    found = sha256_of(path)
    if found == p.sha256:
        return
    size = path.stat().st_size
    sizes = f" ({size} bytes, the entry says {p.size})" if size != p.size else ""
    fix = (
        f"reinstall the plugin: ganzoo install --force-reinstall {e.distribution}"
        if shipped
        else f"delete the cached copy (hf cache rm model/{p.hub_repo}) and load it again; if it persists, the entry is wrong"
    )
    raise ChecksumError(
        f"{_origin(e)}: {path} has sha256 {found}{sizes}, the catalogue expects {p.sha256}; nothing was loaded ({fix})"
    )


def _require_published(e: Entry) -> Pretrained:
    p: Pretrained = e.obj
    if not p.published:
        raise GanzooError(
            f"{_origin(e)} records no sha256 yet, so it has no published weights to load; build them with: "
            f"ganzoo zoo build {e.name}"
        )
    return p


def load_pretrained(name: str, device: str | torch.device | None = None, token: str | None = None) -> Generator:
    """The catalogue entry ``name``'s generator in eval mode; model.safetensors is checked against its sha256 first."""
    from ganzoo.folder import CONFIG_FILE, WEIGHTS_FILE, _architecture_entry, _load_checked, read_generator_config
    from ganzoo.generator import resolve_device

    e = entry(name)
    _require_published(e)
    resolve_device(device)  # a bad device is reported before anything is read or downloaded
    config_path, shipped = _fetch(e, CONFIG_FILE, token)
    assert config_path is not None
    where = f"{PREFIX}{name}"
    config = read_generator_config(config_path, f"{where} {CONFIG_FILE}")
    _architecture_entry(config)  # a missing plugin is reported before the weights are read or downloaded
    weights, shipped = _fetch(e, WEIGHTS_FILE, token)
    assert weights is not None
    check_weights(e, weights, shipped)
    return _load_checked(config, weights, f"{where} {CONFIG_FILE}", f"{where} {WEIGHTS_FILE}", device)


def describe_files(name: str, token: str | None = None) -> tuple[Path, Path | None]:
    """(config.json, README.md or None) of catalogue entry ``name``, shipped or downloaded (no weights)."""
    from ganzoo.folder import CARD_FILE, CONFIG_FILE

    e = entry(name)
    _require_published(e)
    config, _ = _fetch(e, CONFIG_FILE, token)
    assert config is not None
    card, _ = _fetch(e, CARD_FILE, token, required=False)
    return config, card


def info(name: str) -> dict[str, Any]:
    """A catalogue entry as ``ganzoo zoo --json`` and ``ganzoo info`` show it: the entry, its plugin, where its weights are."""
    e = entry(name)
    p: Pretrained = e.obj
    return {
        "name": _registry().name_for(e),
        "plugin": e.plugin,
        "distribution": e.distribution,
        "version": e.version,
        **p.as_dict(),
        "data_set": p.data or _variant_data(p.variant),
        "weights": where_weights(p),
        "available_offline": p.published and available_offline(p),
        "recipe": p.recipe(),
    }


def _variant_data(variant: str) -> str:
    """The data set a variant trains on by default ("?" when no installed plugin registers the variant)."""
    reg = _registry()
    return reg.get("variant", variant).obj.data if ("variant", variant) in reg else "?"


def catalogue(pattern: str = "*") -> list[dict[str, Any]]:
    """Every catalogue entry matching ``pattern`` as ``info`` describes it."""
    return [info(name) for name in list_pretrained(pattern)]

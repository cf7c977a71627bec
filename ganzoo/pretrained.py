"""The catalogue record: what a plugin registers for one pretrained generator (recipe, weights, scores),
checked when it is made."""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ganzoo.errors import PluginError, UsageError, fold
from ganzoo.records import json_copy
from ganzoo.values import LICENSE, QUALIFIED_NAME, check_repo_id, figure, is_int, is_number

__all__ = ["Pretrained"]

DTYPES = ("float32", "float16")
SPLITS = ("train", "test", "all")
_EVALUATION_KEYS = ("metrics", "n", "split", "seed", "features", "data", "options")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_HEX40 = re.compile(r"^[0-9a-f]{40}$")
_SET = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*=")
MAX_DESCRIPTION = 200


# --------------------------------------------------------------------------------------------------------------------
# One catalogue entry


@dataclass(frozen=True, kw_only=True)
class Pretrained:
    """A pretrained generator in the catalogue: how it was made, where its weights live, and what it scored.

    ``register(name, Pretrained(...))`` in a plugin's ``register_pretrained`` hook adds it; ``ganzoo zoo`` lists
    the catalogue, ``ganzoo.load_generator(name)`` loads it (its model.safetensors checked against ``sha256``
    first), ``ganzoo zoo build NAME`` makes it again from the recipe and ``ganzoo zoo verify NAME`` scores it again.
    A malformed entry raises PluginError here, so the plugin registering it is reported and skipped.
    """

    description: str  # one line
    # the recipe, as `ganzoo train VARIANT --data DATA --set K=V ... --steps N --batch-size B --seed S --no-amp`
    variant: str
    steps: int
    data: str | None = None  # None: the variant's own data set
    sets: tuple[str, ...] = ()
    batch_size: int | None = None  # None: the variant's
    seed: int = 0
    # the precision it trained in: False (fp32, what `ganzoo zoo build` repeats bit for bit on a CPU) or True (bf16
    # autocast); the recipe says --no-amp or --amp, since ganzoo train's default depends on the machine
    amp: bool = False
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
        if not isinstance(self.variant, str) or not QUALIFIED_NAME.match(self.variant):
            raise bad(f"variant must be a variant name (see: ganzoo list variants), got {self.variant!r}")
        if self.data is not None and (not isinstance(self.data, str) or not self.data.strip()):
            raise bad(f"data must be a data-set name or None, got {self.data!r}")
        if isinstance(self.sets, str) or not isinstance(self.sets, (tuple, list)):
            raise bad(f"sets must be a tuple of 'KEY=VALUE' strings, got {self.sets!r}")
        for item in self.sets:
            if not isinstance(item, str) or not _SET.match(item):
                raise bad(f"sets must hold 'KEY=VALUE' strings as ganzoo train --set takes them, got {item!r}")
        put("sets", tuple(self.sets))
        if not is_int(self.steps) or self.steps < 1:
            raise bad(f"steps must be a positive integer, got {self.steps!r}")
        if self.batch_size is not None and (not is_int(self.batch_size) or self.batch_size < 1):
            raise bad(f"batch_size must be a positive integer or None, got {self.batch_size!r}")
        if not is_int(self.seed):
            raise bad(f"seed must be an integer, got {self.seed!r}")
        if not isinstance(self.amp, bool):
            raise bad(f"amp must be True (trained in bf16 autocast) or False (fp32), got {self.amp!r}")

        if self.folder is not None:
            if not isinstance(self.folder, (str, os.PathLike)):
                raise bad(f"folder must be a path, got {self.folder!r}")
            put("folder", Path(self.folder))
            if not self.folder.is_absolute():
                raise bad(
                    "folder must be an absolute path (e.g. Path(__file__).parent / 'pretrained' / NAME), "
                    f"got {str(self.folder)!r}"
                )
        if self.hub_repo is not None:
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
            if not is_int(self.size) or self.size < 1:
                raise bad(
                    f"size (bytes of model.safetensors) must be a positive integer with sha256, got {self.size!r}"
                )
            if self.hub_repo is not None and self.hub_revision is None:
                raise bad(f"hub_revision must pin the commit of {self.hub_repo} that holds these weights")
        elif self.size is not None:
            raise bad("size is given without sha256")
        if self.dtype not in DTYPES:
            raise bad(f"dtype must be one of {', '.join(DTYPES)}, got {self.dtype!r}")
        if not isinstance(self.license, str) or not LICENSE.match(self.license):
            raise bad(
                "license must be a Hub licence id (lower case: apache-2.0, mit, cc-by-4.0, other, ...), "
                f"got {self.license!r}"
            )

        put("evaluation", self._check_evaluation(bad))
        put("metrics", self._check_metrics(bad))
        put("tolerance", self._check_tolerance(bad))

    def _check_evaluation(self, bad: Callable[[str], PluginError]) -> dict[str, Any]:
        given = self.evaluation
        if not isinstance(given, Mapping):
            raise bad(
                f"evaluation must be a dict of ganzoo eval's settings ({', '.join(_EVALUATION_KEYS)}), got {given!r}"
            )
        unknown = sorted(str(k) for k in given if k not in _EVALUATION_KEYS)
        if unknown:
            raise bad(f"evaluation has an unknown key {unknown[0]!r} (known: {', '.join(_EVALUATION_KEYS)})")
        names = given.get("metrics")
        if isinstance(names, str):
            names = [part.strip() for part in names.split(",") if part.strip()]
        if (
            not isinstance(names, (list, tuple))
            or not names
            or not all(isinstance(m, str) and QUALIFIED_NAME.match(m) for m in names)
        ):
            raise bad(
                "evaluation['metrics'] must name the metrics scored (e.g. ['fid', 'prdc']), "
                f"got {given.get('metrics')!r}"
            )
        n = given.get("n")
        if not is_int(n) or n < 1:
            raise bad(f"evaluation['n'] must be the positive number of samples scored, got {n!r}")
        split = given.get("split", "test")
        if split not in SPLITS:
            raise bad(f"evaluation['split'] must be one of {', '.join(SPLITS)}, got {split!r}")
        seed = given.get("seed", 0)
        if not is_int(seed):
            raise bad(f"evaluation['seed'] must be an integer, got {seed!r}")
        for key in ("features", "data"):
            value = given.get(key)
            if value is not None and (not isinstance(value, str) or not value.strip()):
                raise bad(f"evaluation[{key!r}] must be a name or None, got {value!r}")
        options = given.get("options") or {}
        if not isinstance(options, Mapping) or not all(
            isinstance(k, str) and isinstance(v, Mapping) for k, v in options.items()
        ):
            raise bad(f"evaluation['options'] must be {{metric: {{key: value}}}}, got {options!r}")
        try:
            options = json_copy(options)
        except (TypeError, ValueError):
            raise bad("evaluation['options'] must hold plain JSON values") from None
        return {
            "metrics": list(dict.fromkeys(names)),
            "n": n,
            "split": split,
            "seed": seed,
            "features": given.get("features"),
            "data": given.get("data"),
            "options": options,
        }

    def _check_metrics(self, bad: Callable[[str], PluginError]) -> tuple[dict[str, Any], ...]:
        if isinstance(self.metrics, (str, Mapping)) or not isinstance(self.metrics, (list, tuple)):
            raise bad(
                f"metrics must be a list of {{'metric', 'values', 'protocol'}} dicts, "
                f"got {fold(repr(self.metrics), 80)}"
            )
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
                values = {str(k): figure(v) for k, v in item["values"].items()}
                protocol = json_copy(dict(item.get("protocol") or {}))
            except (TypeError, ValueError):
                raise bad(
                    f"metrics[{i}] ({item['metric']}) must hold numbers, 'inf', '-inf' or None, "
                    "and a plain JSON protocol"
                ) from None
            found.append({"metric": item["metric"], "values": values, "protocol": protocol})
        names = [item["metric"] for item in found]
        if len(set(names)) != len(names):
            raise bad(f"metrics lists {min(n for n in names if names.count(n) > 1)!r} twice")
        if found and set(names) != set(self.evaluation["metrics"]):
            raise bad(
                f"metrics must be the figures of evaluation['metrics'] ({', '.join(self.evaluation['metrics'])}); "
                f"they are of {', '.join(names)}"
            )
        if self.sha256 is not None and not found:
            raise bad(
                "an entry with weights (sha256) must record the metrics they scored (ganzoo zoo build prints them)"
            )
        return tuple(found)

    def _check_tolerance(self, bad: Callable[[str], PluginError]) -> dict[str, float]:
        if not isinstance(self.tolerance, Mapping):
            raise bad(f"tolerance must be a dict {{value name: absolute tolerance}}, got {self.tolerance!r}")
        found = {}
        for key, value in self.tolerance.items():
            if not isinstance(key, str) or not is_number(value) or not math.isfinite(value) or value < 0:
                raise bad(f"tolerance[{key!r}] must be a finite number >= 0, got {value!r}")
            found[key] = float(value)
        wanted = [(item["metric"], name) for item in self.metrics for name in item["values"]]
        for metric, name in wanted:
            if f"{metric}.{name}" not in found and name not in found:
                raise bad(
                    f"tolerance has no entry for {metric}'s value {name!r} (key {name!r} or {metric + '.' + name!r})"
                )
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
        """The ``ganzoo train`` command line of the recipe, precision included (``--no-amp``: fp32)."""
        import shlex

        words = ["ganzoo", "train", self.variant]
        if self.data:
            words += ["--data", self.data]
        for pair in self.sets:
            words += ["--set", pair]
        words += ["--steps", str(self.steps)]
        if self.batch_size is not None:
            words += ["--batch-size", str(self.batch_size)]
        words += ["--seed", str(self.seed), "--amp" if self.amp else "--no-amp"]
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
            "amp": self.amp,
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

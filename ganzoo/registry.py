"""What plugins registered: entries listed with fnmatch wildcards and looked up by name."""

from __future__ import annotations

import difflib
import fnmatch
import re
from dataclasses import dataclass
from typing import Any

from ganzoo.errors import DuplicateNameError, PluginError, UnknownNameError
from ganzoo.values import NAME

KINDS = ("variant", "architecture", "loss", "dataset", "metric", "features", "pretrained")
PLURALS = {
    "variant": "variants",
    "architecture": "architectures",
    "loss": "losses",
    "dataset": "datasets",
    "metric": "metrics",
    "features": "features",
    "pretrained": "pretrained",
}
# How an unknown-name error speaks of a kind, and where it points for the list, when not "ganzoo list PLURAL".
_LABELS = {"pretrained": "pretrained generator"}
_SEE = {"pretrained": "ganzoo zoo"}


@dataclass(frozen=True)
class Entry:
    """One registered thing and where it came from."""

    kind: str
    name: str
    obj: Any
    plugin: str
    distribution: str
    version: str

    @property
    def description(self) -> str:
        describe = getattr(self.obj, "describe", None)
        return describe() if callable(describe) else ""

    @property
    def source(self) -> str:
        return f"{self.plugin} ({self.distribution} {self.version})"


def natural_key(name: str) -> list[Any]:
    """Sort key that orders ``gan2`` before ``gan10``."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name)]


def split_argument(spec: str) -> tuple[str, str | None]:
    """``"folder:/data/faces"`` -> ``("folder", "/data/faces")``; a plain name has no argument."""
    name, sep, argument = spec.partition(":")
    return (name, argument) if sep else (spec, None)


def _check_shape(kind: str, obj: Any) -> str | None:
    """Why ``obj`` cannot be registered as ``kind``, or None when it looks right."""
    from ganzoo.architecture import Architecture
    from ganzoo.data import Dataset
    from ganzoo.loss import Loss
    from ganzoo.variant import Variant

    expected: dict[str, type] = {"architecture": Architecture, "loss": Loss, "dataset": Dataset, "variant": Variant}
    if kind in expected:
        base = expected[kind]
        ok = isinstance(obj, base) if kind == "variant" else isinstance(obj, type) and issubclass(obj, base)
        if not ok:
            what = "an instance" if kind == "variant" else "a subclass"
            return f"expected {what} of ganzoo.{base.__name__}, got {obj!r}"
        return None
    if kind in ("metric", "features"):
        from ganzoo.metrics.base import FeatureExtractor, Metric

        base = Metric if kind == "metric" else FeatureExtractor
        if not (isinstance(obj, type) and issubclass(obj, base)):
            return f"expected a subclass of ganzoo.{base.__name__}, got {obj!r}"
    if kind == "pretrained":
        from ganzoo.pretrained import Pretrained

        if not isinstance(obj, Pretrained):
            return f"expected an instance of ganzoo.Pretrained, got {obj!r}"
    return None


class Registry:
    """Entries of every kind, keyed by name; a name two plugins register is an error naming both."""

    def __init__(self) -> None:
        self._entries: dict[str, dict[str, Entry]] = {kind: {} for kind in KINDS}

    def add(self, entry: Entry) -> None:
        if entry.kind not in self._entries:
            raise PluginError(f"plugin {entry.plugin!r} registered an unknown kind {entry.kind!r}")
        if not isinstance(entry.name, str) or not NAME.match(entry.name):
            raise PluginError(f"plugin {entry.source} registered a {entry.kind} with a bad name {entry.name!r}")
        problem = _check_shape(entry.kind, entry.obj)
        if problem:
            raise PluginError(f"plugin {entry.source} registered {entry.kind} {entry.name!r} wrongly: {problem}")
        existing = self._entries[entry.kind].get(entry.name)
        if existing is not None:
            raise DuplicateNameError(
                f"{entry.kind} {entry.name!r} is registered by two plugins: {existing.source} and {entry.source}; "
                f"uninstall one (ganzoo uninstall PKG) or limit GANZOO_LOAD_PLUGINS"
            )
        self._entries[entry.kind][entry.name] = entry

    def remove_plugin(self, plugin: str) -> None:
        """Drop everything ``plugin`` registered (after one of its hooks failed)."""
        for entries in self._entries.values():
            for name in [n for n, e in entries.items() if e.plugin == plugin]:
                del entries[name]

    def list(self, kind: str, pattern: str = "*") -> list[Entry]:
        """Entries of ``kind`` whose name matches the fnmatch ``pattern``, in natural order."""
        entries = self._entries[singular_kind(kind)]
        names = sorted((n for n in entries if fnmatch.fnmatchcase(n.lower(), pattern.lower())), key=natural_key)
        return [entries[n] for n in names]

    def get(self, kind: str, name: str) -> Entry:
        """The entry called ``name`` (``NAME:ARGUMENT`` looks up ``NAME``), or an error suggesting close names."""
        kind = singular_kind(kind)
        base, _ = split_argument(name)
        entries = self._entries[kind]
        if base in entries:
            return entries[base]
        close = difflib.get_close_matches(base, list(entries), n=3, cutoff=0.5)
        hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        see = _SEE.get(kind, f"ganzoo list {PLURALS[kind]}")
        raise UnknownNameError(f"unknown {_LABELS.get(kind, kind)} {name!r}{hint} (see: {see})")

    def __contains__(self, key: tuple[str, str]) -> bool:
        kind, name = key
        return split_argument(name)[0] in self._entries[singular_kind(kind)]


def singular_kind(kind: str) -> str:
    """The singular name of a kind, given either form (`losses` -> `loss`)."""
    for singular, plural in PLURALS.items():
        if kind in (singular, plural):
            return singular
    raise UnknownNameError(f"unknown kind {kind!r}; one of: {', '.join(PLURALS.values())}")

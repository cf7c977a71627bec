"""What plugins registered: entries listed with fnmatch wildcards and looked up by plain or qualified name.

Every entry is reachable by its qualified name ``DISTRIBUTION:NAME`` (``ganzoo:hinge``). A plain name that
several distributions register is a clash, never an error at registration: the built-in distribution keeps the
plain name; between third-party distributions alone the plain name is ambiguous and looking it up is an error
listing the qualified names.
"""

from __future__ import annotations

import difflib
import fnmatch
import re
from dataclasses import dataclass
from typing import Any

from ganzoo.errors import AmbiguousNameError, DuplicateNameError, PluginError, UnknownNameError, and_list
from ganzoo.values import NAME, normalise_distribution

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
BUILTIN_DISTRIBUTION = "ganzoo"
# The flag or command that picks an entry of each kind by name, for the clash warning.
PICK = {
    "variant": "ganzoo train {}",
    "architecture": "--set arch={}",
    "loss": "--set loss={}",
    "dataset": "--data {}",
    "metric": "--metrics {}",
    "features": "--features {}",
    "pretrained": "ganzoo sample {}",
    "command": "ganzoo {}",
}


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

    @property
    def qualified_name(self) -> str:
        """``DISTRIBUTION:NAME``: reaches this entry whatever else registers ``name``."""
        return f"{self.distribution}:{self.name}"


@dataclass(frozen=True)
class Clash:
    """A plain name of one kind that several distributions register; ``chosen`` is what the plain name means."""

    kind: str
    name: str
    entries: tuple[Any, ...]  # Entry, or anything with name, distribution, version and qualified_name
    chosen: Any | None  # None: the plain name is ambiguous

    @property
    def distributions(self) -> list[str]:
        return [e.distribution for e in self.entries]

    def message(self) -> str:
        """One line: who registers the name, what the plain name means, and the exact flag picking each."""
        label = _LABELS.get(self.kind, self.kind)
        who = and_list([f"{e.distribution} {e.version}".strip() for e in self.entries])
        if self.chosen is not None:
            means = f"plain {self.name!r} is {self.chosen.distribution}'s"
        else:
            means = f"plain {self.name!r} is ambiguous and refused"
        picks = " or ".join(PICK[self.kind].format(e.qualified_name) for e in self.entries)
        return f"{label} {self.name!r} is registered by {who}; {means}; pick one with {picks}"

    def refusal(self) -> str:
        """Why the plain name, ambiguous, is refused, with the exact flag naming each entry."""
        picks = " or ".join(PICK[self.kind].format(e.qualified_name) for e in self.entries)
        return (
            f"{_LABELS.get(self.kind, self.kind)} {self.name!r} is registered by {and_list(self.distributions)}; "
            f"name one: {picks}"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "distributions": self.distributions,
            "qualified_names": [e.qualified_name for e in self.entries],
            "plain_name_means": self.chosen.qualified_name if self.chosen is not None else None,
            "warning": self.message(),
        }


def choose(entries: list[Any]) -> Any | None:
    """What a plain name several distributions register means: the built-in's entry, else None (ambiguous)."""
    if len(entries) == 1:
        return entries[0]
    builtin = [e for e in entries if e.distribution == BUILTIN_DISTRIBUTION]
    return builtin[0] if builtin else None


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
    """Entries of every kind by plain name (several distributions may share one) and by ``DISTRIBUTION:NAME``."""

    def __init__(self) -> None:
        self._entries: dict[str, dict[str, list[Entry]]] = {kind: {} for kind in KINDS}

    def add(self, entry: Entry) -> None:
        if entry.kind not in self._entries:
            raise PluginError(f"plugin {entry.plugin!r} registered an unknown kind {entry.kind!r}")
        if not isinstance(entry.name, str) or not NAME.match(entry.name):
            raise PluginError(f"plugin {entry.source} registered a {entry.kind} with a bad name {entry.name!r}")
        problem = _check_shape(entry.kind, entry.obj)
        if problem:
            raise PluginError(f"plugin {entry.source} registered {entry.kind} {entry.name!r} wrongly: {problem}")
        same = self._entries[entry.kind].setdefault(entry.name, [])
        twin = next((e for e in same if e.distribution == entry.distribution), None)
        if twin is not None:  # one distribution registering a name twice: its qualified name could not tell them apart
            raise DuplicateNameError(
                f"{entry.kind} {entry.name!r} is registered twice by one distribution: {twin.source} and "
                f"{entry.source}; the second is skipped"
            )
        same.append(entry)

    def remove_plugin(self, plugin: str) -> None:
        """Drop everything ``plugin`` registered (after one of its hooks failed)."""
        for entries in self._entries.values():
            for name, same in list(entries.items()):
                same[:] = [e for e in same if e.plugin != plugin]
                if not same:
                    del entries[name]

    def list(self, kind: str, pattern: str = "*") -> list[Entry]:
        """Entries of ``kind`` whose plain or qualified name matches the fnmatch ``pattern``, in natural order."""
        pattern = pattern.lower()
        found = [
            e
            for same in self._entries[singular_kind(kind)].values()
            for e in same
            if fnmatch.fnmatchcase(e.name.lower(), pattern) or fnmatch.fnmatchcase(e.qualified_name.lower(), pattern)
        ]
        return sorted(
            found,
            key=lambda e: (
                natural_key(e.name),
                e is not choose(self._entries[e.kind][e.name]),
                natural_key(e.distribution),
            ),
        )

    def name_for(self, entry: Entry) -> str:
        """The shortest name that reaches ``entry``: its plain name, or ``DISTRIBUTION:NAME`` when that means
        another."""
        return entry.name if choose(self._entries[entry.kind].get(entry.name, [])) is entry else entry.qualified_name

    def resolve(self, kind: str, spec: str, home: str | None = None) -> tuple[Entry, str | None]:
        """The entry ``spec`` names and its argument: ``NAME``, ``NAME:ARGUMENT``, ``DIST:NAME`` or
        ``DIST:NAME:ARGUMENT``.

        A qualifier counts when it is a distribution that registered that name of ``kind``; otherwise the part after
        the first colon is an argument. ``home`` (a distribution) wins a clash of plain names, so that the names in a
        plugin's variant mean that plugin's own entries.
        """
        kind = singular_kind(kind)
        entries = self._entries[kind]
        qualifier, sep, rest = spec.partition(":")
        if sep:
            base, argument = split_argument(rest)
            for e in entries.get(base, []):
                if normalise_distribution(e.distribution) == normalise_distribution(qualifier):
                    return e, argument
        base, argument = split_argument(spec)
        same = entries.get(base, [])
        own = [e for e in same if home is not None and e.distribution == home]
        chosen = own[0] if own else choose(same) if same else None
        if chosen is not None:
            return chosen, argument
        if same:
            raise AmbiguousNameError(Clash(kind, base, tuple(same), None).refusal())
        close = difflib.get_close_matches(base, list(entries), n=3, cutoff=0.5)
        hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        see = _SEE.get(kind, f"ganzoo list {PLURALS[kind]}")
        raise UnknownNameError(f"unknown {_LABELS.get(kind, kind)} {spec!r}{hint} (see: {see})")

    def split(self, kind: str, spec: str) -> tuple[str, str | None]:
        """``spec`` as (plain name, argument): like ``split_argument``, but a ``DISTRIBUTION:`` qualifier that reaches
        an entry of ``kind`` is dropped rather than taken for the name (``ganzoo:folder:/data`` -> folder, /data)."""
        qualifier, sep, rest = spec.partition(":")
        if sep:
            base, argument = split_argument(rest)
            same = self._entries[singular_kind(kind)].get(base, [])
            if any(normalise_distribution(e.distribution) == normalise_distribution(qualifier) for e in same):
                return base, argument
        return split_argument(spec)

    def get(self, kind: str, name: str, home: str | None = None) -> Entry:
        """The entry called ``name`` (``NAME:ARGUMENT`` looks up ``NAME``), or an error suggesting close names."""
        return self.resolve(kind, name, home)[0]

    def pin(self, kind: str, spec: str, home: str | None = None) -> str:
        """``spec`` as resolved with ``home``, spelt so that it resolves to the same entry without it."""
        entry, argument = self.resolve(kind, spec, home)
        try:
            if self.resolve(kind, spec)[0] is entry:
                return spec
        except AmbiguousNameError:
            pass
        return entry.qualified_name + (f":{argument}" if argument is not None else "")

    def clashes(self) -> list[Clash]:
        """Every plain name that several distributions register, by kind and name."""
        return [
            Clash(kind, name, tuple(same), choose(same))
            for kind, entries in self._entries.items()
            for name, same in sorted(entries.items(), key=lambda item: natural_key(item[0]))
            if len(same) > 1
        ]

    def __contains__(self, key: tuple[str, str]) -> bool:
        """True when the name reaches an entry, or several (an ambiguous name is known, though refused)."""
        kind, name = key
        try:
            self.resolve(kind, name)
        except AmbiguousNameError:
            return True
        except UnknownNameError:
            return False
        return True


def singular_kind(kind: str) -> str:
    """The singular name of a kind, given either form (`losses` -> `loss`)."""
    for singular, plural in PLURALS.items():
        if kind in (singular, plural):
            return singular
    raise UnknownNameError(f"unknown kind {kind!r}; one of: {', '.join(PLURALS.values())}")

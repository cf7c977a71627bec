"""The plugin manager: loads entry points of group ``ganzoo`` one at a time and builds the registry."""

from __future__ import annotations

import os
import sys
import traceback
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from typing import Any

import pluggy

import ganzoo.hookspecs as hookspecs
from ganzoo.errors import DuplicateNameError, PluginError, UsageError
from ganzoo.registry import KINDS, PLURALS, Entry, Registry
from ganzoo.values import normalise_distribution

GROUP = "ganzoo"
# Kinds whose failing hook drops only what that hook registered; the plugin's architectures, variants... stay.
OPTIONAL_KINDS = ("pretrained",)
BUILTIN_DISTRIBUTION = "ganzoo"


@dataclass
class PluginInfo:
    """A loaded (or failed) plugin, as ``ganzoo plugins`` shows it."""

    name: str
    distribution: str
    version: str
    hooks: list[str] = field(default_factory=list)
    error: str | None = None
    entry_point: str = ""  # the entry-point name; ``name`` differs when another distribution uses it too
    warning: str | None = None

    def __post_init__(self) -> None:
        self.entry_point = self.entry_point or self.name

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "name": self.name,
            "entry_point": self.entry_point,
            "distribution": self.distribution,
            "version": self.version,
            "hooks": self.hooks,
        }
        if self.error:
            data["error"] = self.error
        if self.warning:
            data["warning"] = self.warning
        return data


pm = pluggy.PluginManager(GROUP)
pm.add_hookspecs(hookspecs)

_infos: dict[str, PluginInfo] = {}
_registry: Registry | None = None
_loaded = False


def _strict() -> bool:
    return os.environ.get("GANZOO_STRICT_PLUGINS", "") not in ("", "0", "false", "no")


def _allowed_distributions(available: set[str]) -> set[str] | None:
    """Distributions named by GANZOO_LOAD_PLUGINS (built-ins always load); None when it is unset."""
    raw = os.environ.get("GANZOO_LOAD_PLUGINS")
    if raw is None:
        return None
    wanted = {normalise_distribution(part) for part in raw.split(",") if part.strip()}
    unknown = sorted(wanted - {normalise_distribution(d) for d in available})
    if unknown:
        raise UsageError(
            f"GANZOO_LOAD_PLUGINS names {unknown[0]!r}, which is no installed distribution with ganzoo plugins "
            f"(installed: {', '.join(sorted(available)) or 'none'})"
        )
    return wanted | {BUILTIN_DISTRIBUTION}


def _report(info: PluginInfo, exc: BaseException, skipped: str = "") -> None:
    """One line on stderr; ``skipped`` names what was dropped when it is not the whole plugin."""
    error = f"{type(exc).__name__}: {exc}"
    if skipped:
        info.warning = f"{skipped} skipped: {error}"
        print(f"ganzoo: plugin {info.name!r} from {info.distribution} {info.version}: {skipped} skipped: {error}", file=sys.stderr)
    else:
        info.error = error
        print(f"ganzoo: plugin {info.name!r} from {info.distribution} {info.version} failed and was skipped: {error}", file=sys.stderr)
    if os.environ.get("GANZOO_DEBUG"):
        traceback.print_exception(exc)


def _dist_of(ep: EntryPoint) -> tuple[str, str]:
    dist = getattr(ep, "dist", None)
    if dist is None:
        return ("unknown", "")
    return (dist.metadata["Name"] or "unknown", dist.version or "")


def _plugin_names(found: list[tuple[EntryPoint, str, str]]) -> list[str]:
    """A unique plugin name per entry point in ``found`` (entry point, distribution, version).

    An entry-point name that one distribution uses is the plugin name. When several use the same one, the
    built-in plugin keeps it and every other becomes ``distribution:name``, so all of them load side by side
    and each thing they register names the plugin it came from.
    """
    uses: dict[str, int] = {}
    for ep, _, _ in found:
        uses[ep.name] = uses.get(ep.name, 0) + 1
    return [
        f"{dist}:{ep.name}" if uses[ep.name] > 1 and dist != BUILTIN_DISTRIBUTION else ep.name
        for ep, dist, _ in found
    ]


def _collisions(found: list[tuple[EntryPoint, str, str]], names: list[str]) -> list[tuple[str, str]]:
    """For each entry-point name several distributions use: (who uses it, what each loads as)."""
    shared: dict[str, list[int]] = {}
    for i, (ep, _, _) in enumerate(found):
        shared.setdefault(ep.name, []).append(i)
    result = []
    for name, where in shared.items():
        if len(where) > 1:
            dists = _and([" ".join(filter(None, found[i][1:])) for i in where])
            result.append((
                f"plugin entry point {name!r} is used by {len(where)} distributions ({dists})",
                _and([repr(names[i]) for i in where]),
            ))
    return result


def _and(words: list[str]) -> str:
    return ", ".join(words[:-1]) + " and " + words[-1] if len(words) > 1 else "".join(words)


def load_plugins() -> None:
    """Import every allowed ``ganzoo`` entry point, each on its own; idempotent.

    Entry points that share a name (a third party's ``timm`` beside the built-in one, say) are reported on
    stderr and all of them load, under distinct plugin names; under ``GANZOO_STRICT_PLUGINS=1`` that is an error.
    """
    global _loaded
    if _loaded:
        return
    found = [(ep, *_dist_of(ep)) for ep in entry_points(group=GROUP)]
    allowed = _allowed_distributions({dist for _, dist, _ in found})
    found = [f for f in found if allowed is None or normalise_distribution(f[1]) in allowed]
    found.sort(key=lambda f: (f[1] != BUILTIN_DISTRIBUTION, f[0].name, f[1]))
    names = _plugin_names(found)
    collisions = _collisions(found, names)
    if collisions and _strict():
        raise PluginError(
            f"{collisions[0][0]}; rename one of these entry points, uninstall one (ganzoo uninstall PKG) "
            f"or limit GANZOO_LOAD_PLUGINS"
        )
    _loaded = True
    for message, loaded_as in collisions:
        print(f"ganzoo: {message}; all load, as plugins {loaded_as}", file=sys.stderr)
    for (ep, dist, version), name in zip(found, names):
        if name in _infos:  # only when an entry point is itself called "distribution:name"
            print(f"ganzoo: plugin entry point {ep.name!r} from {dist} {version} was skipped: another plugin is "
                  f"called {name!r} already; rename the entry point", file=sys.stderr)
            continue
        info = PluginInfo(name, dist, version, entry_point=ep.name)
        if name != ep.name:
            info.warning = f"entry point {ep.name!r} is used by another distribution too; loaded as {name!r}"
        _infos[name] = info
        try:
            module = ep.load()
            if pm.is_registered(module):
                owner = _infos.get(pm.get_name(module) or "")
                where = f"{owner.name!r} ({owner.distribution})" if owner else repr(pm.get_name(module))
                raise PluginError(f"its module {ep.value} is already loaded as plugin {where}")
            pm.register(module, name=name)
        except Exception as exc:
            if _strict():
                raise
            _report(info, exc)
            continue
        info.hooks = sorted(impl_name for impl_name in _hooks_of(name))


def _hooks_of(plugin_name: str) -> list[str]:
    plugin = pm.get_plugin(plugin_name)
    return [caller.name for caller in (pm.get_hookcallers(plugin) or [])]


def _call(impl: Any, **available: Any) -> None:
    impl.function(*[available[arg] for arg in impl.argnames])


def registry() -> Registry:
    """The registry of everything the loaded plugins registered (built on first use)."""
    global _registry
    if _registry is not None:
        return _registry
    load_plugins()
    reg = Registry()
    failed: set[str] = set()
    for kind in KINDS:
        caller = getattr(pm.hook, f"register_{PLURALS[kind]}")
        for impl in reversed(caller.get_hookimpls()):  # registration order, not pluggy's LIFO
            info = _infos.get(impl.plugin_name) or PluginInfo(impl.plugin_name, "unknown", "")
            if impl.plugin_name in failed:
                continue
            staged: list[Entry] = []

            def register(name: str, obj: Any, _kind: str = kind, _info: PluginInfo = info, _staged: list[Entry] = staged) -> None:
                _staged.append(Entry(_kind, name, obj, _info.name, _info.distribution, _info.version))

            try:
                _call(impl, register=register)
                for entry in staged:
                    reg.add(entry)
            except DuplicateNameError:
                raise
            except Exception as exc:
                if _strict():
                    raise
                if kind in OPTIONAL_KINDS:  # a bad catalogue entry costs the plugin its entries of that kind only
                    _report(info, exc, skipped=f"its {PLURALS[kind]} entries")
                    continue
                failed.add(impl.plugin_name)
                reg.remove_plugin(impl.plugin_name)
                _report(info, exc)
    _registry = reg
    return reg


def add_commands(cli: Any) -> None:
    """Let each loaded plugin add subcommands to ``cli``; a failing one is reported and skipped."""
    load_plugins()
    for impl in reversed(pm.hook.register_commands.get_hookimpls()):
        info = _infos.get(impl.plugin_name) or PluginInfo(impl.plugin_name, "unknown", "")
        try:
            _call(impl, cli=cli)
        except Exception as exc:
            if _strict():
                raise
            _report(info, exc)


def plugin_infos() -> list[PluginInfo]:
    """Every plugin seen, loaded or failed, built-ins first."""
    load_plugins()
    return sorted(_infos.values(), key=lambda i: (i.distribution != BUILTIN_DISTRIBUTION, i.name))


def reset() -> None:
    """Forget every loaded plugin (tests use this after changing the environment)."""
    global _registry, _loaded
    for name, _ in list(pm.list_name_plugin()):
        pm.unregister(name=name)
    _infos.clear()
    _registry = None
    _loaded = False

"""The plugin manager: loads entry points of group ``ganzoo`` one at a time and builds the registry."""

from __future__ import annotations

import os
import sys
import traceback
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from typing import Any

import pluggy

from ganzoo import hookspecs
from ganzoo.errors import DuplicateNameError, UsageError
from ganzoo.registry import KINDS, PLURALS, Entry, Registry

GROUP = "ganzoo"
BUILTIN_DISTRIBUTION = "ganzoo"


@dataclass
class PluginInfo:
    """A loaded (or failed) plugin, as ``ganzoo plugins`` shows it."""

    name: str
    distribution: str
    version: str
    hooks: list[str] = field(default_factory=list)
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        data = {"name": self.name, "distribution": self.distribution, "version": self.version, "hooks": self.hooks}
        if self.error:
            data["error"] = self.error
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
    wanted = {_normalise(part) for part in raw.split(",") if part.strip()}
    unknown = sorted(wanted - {_normalise(d) for d in available})
    if unknown:
        raise UsageError(
            f"GANZOO_LOAD_PLUGINS names {unknown[0]!r}, which is no installed distribution with ganzoo plugins "
            f"(installed: {', '.join(sorted(available)) or 'none'})"
        )
    return wanted | {BUILTIN_DISTRIBUTION}


def _normalise(name: str) -> str:
    return name.strip().lower().replace("_", "-").replace(".", "-")


def _report(info: PluginInfo, exc: BaseException) -> None:
    info.error = f"{type(exc).__name__}: {exc}"
    print(
        f"ganzoo: plugin {info.name!r} from {info.distribution} {info.version} failed and was skipped: {info.error}",
        file=sys.stderr,
    )
    if os.environ.get("GANZOO_DEBUG"):
        traceback.print_exception(exc)


def _dist_of(ep: EntryPoint) -> tuple[str, str]:
    dist = getattr(ep, "dist", None)
    if dist is None:
        return ("unknown", "")
    return (dist.metadata["Name"] or "unknown", dist.version or "")


def load_plugins() -> None:
    """Import every allowed ``ganzoo`` entry point, each on its own; idempotent."""
    global _loaded
    if _loaded:
        return
    eps = list(entry_points(group=GROUP))
    allowed = _allowed_distributions({_dist_of(ep)[0] for ep in eps})
    _loaded = True
    for ep in sorted(eps, key=lambda e: (_dist_of(e)[0] != BUILTIN_DISTRIBUTION, e.name)):
        dist, version = _dist_of(ep)
        if allowed is not None and _normalise(dist) not in allowed:
            continue
        if ep.name in _infos:
            continue
        info = PluginInfo(ep.name, dist, version)
        _infos[ep.name] = info
        try:
            module = ep.load()
            pm.register(module, name=ep.name)
        except Exception as exc:
            if _strict():
                raise
            _report(info, exc)
            continue
        info.hooks = sorted(impl_name for impl_name in _hooks_of(ep.name))


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

            def register(name: str, obj: Any, _kind: str = kind, _info: PluginInfo = info) -> None:
                staged.append(Entry(_kind, name, obj, _info.name, _info.distribution, _info.version))

            try:
                _call(impl, register=register)
                for entry in staged:
                    reg.add(entry)
            except DuplicateNameError:
                raise
            except Exception as exc:
                if _strict():
                    raise
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

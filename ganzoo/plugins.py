"""The plugin manager: loads entry points of group ``ganzoo`` one at a time and builds the registry and commands."""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from typing import Any

import pluggy

import ganzoo.hookspecs as hookspecs
from ganzoo.errors import AmbiguousNameError, DuplicateNameError, PluginError, UsageError, and_list
from ganzoo.registry import BUILTIN_DISTRIBUTION, KINDS, PLURALS, Clash, Entry, Registry, choose
from ganzoo.values import normalise_distribution

GROUP = "ganzoo"
# Kinds whose failing hook drops only what that hook registered; the plugin's architectures, variants... stay.
OPTIONAL_KINDS = ("pretrained",)


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

    def as_dict(self, clashes: Sequence[Clash] = ()) -> dict[str, Any]:
        """What ``ganzoo plugins --json`` shows; ``clashes`` adds those that involve this plugin."""
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
        mine = [c.as_dict() for c in clashes if any(e.plugin == self.name for e in c.entries)]
        if mine:
            data["clashes"] = mine
        return data


pm = pluggy.PluginManager(GROUP)
pm.add_hookspecs(hookspecs)

_infos: dict[str, PluginInfo] = {}
_registry: Registry | None = None
_commands: tuple[frozenset[str], dict[str, Any], list[Clash]] | None = None
_warned: set[str] = set()  # clash warnings already printed by this process
_generation = 0  # grows whenever the set of plugins changes; the CLI re-reads plugin commands then
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
        print(
            f"ganzoo: plugin {info.name!r} from {info.distribution} {info.version}: {skipped} skipped: {error}",
            file=sys.stderr,
        )
    else:
        info.error = error
        print(
            f"ganzoo: plugin {info.name!r} from {info.distribution} {info.version} failed and was skipped: {error}",
            file=sys.stderr,
        )
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
        f"{dist}:{ep.name}" if uses[ep.name] > 1 and dist != BUILTIN_DISTRIBUTION else ep.name for ep, dist, _ in found
    ]


def _collisions(found: list[tuple[EntryPoint, str, str]], names: list[str]) -> list[tuple[str, str]]:
    """For each entry-point name several distributions use: (who uses it, what each loads as)."""
    shared: dict[str, list[int]] = {}
    for i, (ep, _, _) in enumerate(found):
        shared.setdefault(ep.name, []).append(i)
    result = []
    for name, where in shared.items():
        if len(where) > 1:
            dists = and_list([" ".join(filter(None, found[i][1:])) for i in where])
            result.append(
                (
                    f"plugin entry point {name!r} is used by {len(where)} distributions ({dists})",
                    and_list([repr(names[i]) for i in where]),
                )
            )
    return result


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
            print(
                f"ganzoo: plugin entry point {ep.name!r} from {dist} {version} was skipped: another plugin is "
                f"called {name!r} already; rename the entry point",
                file=sys.stderr,
            )
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
        for impl in caller.get_hookimpls():  # registration order (pluggy *calls* them last-registered first)
            info = _infos.get(impl.plugin_name) or PluginInfo(impl.plugin_name, "unknown", "")
            if impl.plugin_name in failed:
                continue
            staged: list[Entry] = []

            def register(
                name: str, obj: Any, _kind: str = kind, _info: PluginInfo = info, _staged: list[Entry] = staged
            ) -> None:
                _staged.append(Entry(_kind, name, obj, _info.name, _info.distribution, _info.version))

            try:
                _call(impl, register=register)
                for entry in staged:
                    _add_entry(reg, entry, info)
            except Exception as exc:
                if _strict():
                    raise
                if kind in OPTIONAL_KINDS:  # a bad catalogue entry costs the plugin its entries of that kind only
                    _report(info, exc, skipped=f"its {PLURALS[kind]} entries")
                    continue
                failed.add(impl.plugin_name)
                reg.remove_plugin(impl.plugin_name)
                _report(info, exc)
    _warn_clashes(reg.clashes())
    _registry = reg
    return reg


def _add_entry(reg: Registry, entry: Entry, info: PluginInfo) -> None:
    """Add ``entry``; one that its own distribution registered already is reported and skipped (strict: raised)."""
    try:
        reg.add(entry)
    except DuplicateNameError as exc:
        if _strict():
            raise
        _report(info, exc, skipped=f"its second {entry.kind} {entry.name!r}")


def _warn_clashes(clashes: list[Clash]) -> None:
    """One line on stderr per clash, once per process; under GANZOO_STRICT_PLUGINS=1 the first clash is an error."""
    if clashes and _strict():
        raise PluginError(f"{clashes[0].message()} (GANZOO_STRICT_PLUGINS=1 makes a name clash an error)")
    for clash in clashes:
        message = clash.message()
        if message not in _warned:
            _warned.add(message)
            print(f"ganzoo: warning: {message}", file=sys.stderr)


def clashes() -> list[Clash]:
    """Every name clash among the loaded plugins: registry names, and commands once the CLI has read them."""
    return registry().clashes() + (_commands[2] if _commands else [])


def register_plugin(
    plugin: Any, name: str | None = None, distribution: str | None = None, version: str = ""
) -> Callable[[], None]:
    """Register ``plugin`` (a module, or any object with ``@hookimpl`` functions) in this process, beside the installed
    plugins, as if ``distribution`` (default: the plugin's name) had installed it; returns a function that undoes it.

    For tests: the registry and the CLI's commands are built anew on next use, with and then without the plugin.
    ``ganzoo.testing`` wraps this in a pytest fixture.
    """
    load_plugins()
    name = name or getattr(plugin, "__name__", None) or type(plugin).__name__
    if name in _infos or pm.has_plugin(name):
        raise UsageError(f"a plugin called {name!r} is loaded already; register this one under another name")
    pm.register(plugin, name=name)
    info = PluginInfo(name, distribution or name, version)
    info.hooks = sorted(_hooks_of(name))
    _infos[name] = info
    _changed()

    def undo() -> None:
        if pm.get_plugin(name) is plugin:
            pm.unregister(name=name)
            _infos.pop(name, None)
            _changed()

    return undo


def generation() -> int:
    """A number that changes whenever plugins are registered or forgotten in this process."""
    return _generation


def _changed() -> None:
    global _registry, _commands, _generation
    _registry = None
    _commands = None
    _generation += 1


@dataclass(frozen=True)
class CommandEntry:
    """A CLI command and where it came from (a built-in command's plugin is ``ganzoo``)."""

    name: str
    command: Any
    plugin: str
    distribution: str
    version: str

    @property
    def qualified_name(self) -> str:
        return f"{self.distribution}:{self.name}"


def add_commands(cli: Any) -> list[str]:
    """Add the plugins' commands to ``cli``, by the clash rule of the registry; returns the names added.

    A command that ``cli`` already has (a built-in) keeps its name; a plugin's command of that name is added as
    ``DISTRIBUTION:NAME`` only. A name that several plugins add is reachable only as ``DISTRIBUTION:NAME``, and
    the plain name is a command that says so. Every plugin command is also reachable as ``DISTRIBUTION:NAME``.
    """
    table, found = plugin_commands(cli.commands)
    _warn_clashes(found)
    for name, command in table.items():
        cli.add_command(command, name)
    return list(table)


def plugin_commands(builtin: dict[str, Any]) -> tuple[dict[str, Any], list[Clash]]:
    """The commands plugins add, by the name a group should hold each under, and the clashes among them.

    ``builtin`` maps the group's own command names to commands. Each plugin's hook runs once per set of plugins,
    on a scratch group, so no plugin can replace another's command; a failing hook is reported and skipped.
    """
    global _commands
    key = frozenset(builtin)
    if _commands is not None and _commands[0] == key:
        return _commands[1], _commands[2]
    import copy

    import click

    from ganzoo.version import __version__

    load_plugins()
    by_name: dict[str, list[CommandEntry]] = {
        name: [CommandEntry(name, command, BUILTIN_DISTRIBUTION, BUILTIN_DISTRIBUTION, __version__)]
        for name, command in builtin.items()
    }
    for impl in pm.hook.register_commands.get_hookimpls():
        info = _infos.get(impl.plugin_name) or PluginInfo(impl.plugin_name, "unknown", "")
        scratch = click.Group(name=GROUP)
        try:
            _call(impl, cli=scratch)
        except Exception as exc:
            if _strict():
                raise
            _report(info, exc)
            continue
        for name, command in scratch.commands.items():
            same = by_name.setdefault(name, [])
            if any(e.distribution == info.distribution for e in same):
                _report(
                    info,
                    DuplicateNameError(f"command {name!r} is added twice by {info.distribution}"),
                    skipped=f"its second command {name!r}",
                )
                continue
            same.append(CommandEntry(name, command, info.name, info.distribution, info.version))

    def hidden(command: Any) -> Any:
        alias = copy.copy(command)
        alias.hidden = True
        return alias

    table: dict[str, Any] = {}
    found: list[Clash] = []
    for name, same in by_name.items():
        chosen = choose(same)
        if len(same) > 1:
            found.append(Clash("command", name, tuple(same), chosen))
        for e in same:
            if e.command is builtin.get(name):
                if len(same) > 1:
                    table[e.qualified_name] = hidden(e.command)
                continue
            table[e.qualified_name] = e.command if len(same) > 1 else hidden(e.command)
            if e is chosen:
                table[name] = e.command
        if chosen is None:
            table[name] = _ambiguous_command(found[-1])
    _commands = (key, table, found)
    return table, found


def _ambiguous_command(clash: Clash) -> Any:
    """A hidden command standing for a name several plugins add: running it is one line naming the qualified ones."""
    import click

    @click.command(
        clash.name,
        hidden=True,
        add_help_option=False,
        context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
    )
    def ambiguous() -> None:
        raise AmbiguousNameError(clash.refusal())

    return ambiguous


def plugin_infos() -> list[PluginInfo]:
    """Every plugin seen, loaded or failed, built-ins first."""
    load_plugins()
    return sorted(_infos.values(), key=lambda i: (i.distribution != BUILTIN_DISTRIBUTION, i.name))


def reset() -> None:
    """Forget every loaded plugin and printed warning (tests use this after changing the environment)."""
    global _loaded
    for name, _ in list(pm.list_name_plugin()):
        pm.unregister(name=name)
    _infos.clear()
    _warned.clear()
    _changed()
    _loaded = False

"""The ``ganzoo`` command: a click group whose built-in commands import heavy modules only when run."""

from __future__ import annotations

import gc
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import click

import ganzoo.cpu as cpu
from ganzoo.cli_check import check_command
from ganzoo.cli_hub import pull_command, push_command, search_command, zoo_command
from ganzoo.cli_sample import sample_command
from ganzoo.cli_shared import echo_table, positive, threads_option
from ganzoo.errors import GanzooError, UsageError
from ganzoo.files import human_size
from ganzoo.values import folder_word
from ganzoo.version import __version__

KIND_CHOICES = ["variants", "architectures", "losses", "datasets", "metrics", "features", "pretrained"]


class GanzooGroup(click.Group):
    """A group that lets plugins add commands, loaded only when a command or the help needs them."""

    _plugins_added: int | None = None  # the plugins' generation whose commands the group holds
    _plugin_commands: list[str] = []

    def _add_plugin_commands(self) -> None:
        from ganzoo import plugins

        self._forget_stale_plugin_commands()
        if self._plugins_added is None:
            self._plugins_added = plugins.generation()
            self._plugin_commands = plugins.add_commands(self)

    def _forget_stale_plugin_commands(self) -> None:
        """Drop the plugin commands added before plugins were registered or forgotten in this process."""
        if self._plugins_added is None:
            return
        from ganzoo import plugins

        if self._plugins_added != plugins.generation():
            for name in self._plugin_commands:
                self.commands.pop(name, None)
            self._plugins_added, self._plugin_commands = None, []

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._add_plugin_commands()
        return super().list_commands(ctx)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args:  # bare `ganzoo`: the help, on stdout, and success (as git and pip do)
            click.echo(ctx.get_help(), color=ctx.color)
            ctx.exit(0)
        return super().parse_args(ctx, args)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        self._forget_stale_plugin_commands()
        command = super().get_command(ctx, name)
        if command is None:
            self._add_plugin_commands()
            command = super().get_command(ctx, name)
        return command


@click.group(cls=GanzooGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ganzoo")
@click.option("--debug", is_flag=True, help="Show full tracebacks on errors.")
def cli(debug: bool) -> None:
    """ganzoo: train, share and compare generative adversarial networks.

    Every variant, loss, architecture, data set and metric comes from a plugin;
    `ganzoo list` shows what is installed.
    """
    if debug:
        os.environ["GANZOO_DEBUG"] = "1"


@cli.command("list")
@click.argument("kind", required=False, type=click.Choice(KIND_CHOICES))
@click.argument("pattern", required=False, default="*")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def list_command(kind: str | None, pattern: str, as_json: bool) -> None:
    """List what plugins registered: variants, architectures, losses, data sets, metrics, features, pretrained
    generators.

    PATTERN is an fnmatch wildcard, e.g. `ganzoo list variants 'wgan*'`.
    """
    from ganzoo.plugins import registry

    reg = registry()
    kinds = [kind] if kind else [k for k in KIND_CHOICES]
    found = {k: reg.list(k, pattern) for k in kinds}
    if as_json:
        payload = {
            k: [
                {
                    "name": reg.name_for(e),
                    "qualified_name": e.qualified_name,
                    "description": e.description,
                    "plugin": e.plugin,
                    "distribution": e.distribution,
                    "version": e.version,
                }
                for e in entries
            ]
            for k, entries in found.items()
        }
        click.echo(json.dumps(payload, indent=2))
        return
    for i, (k, entries) in enumerate(found.items()):
        if len(kinds) > 1:
            click.echo(("\n" if i else "") + click.style(k, bold=True))
        if not entries:
            click.echo(f"(no {k} match {pattern!r})")
            continue
        echo_table([[reg.name_for(e), e.plugin, e.description] for e in entries], ["name", "plugin", "description"])


def _describe_entry(kind: str, name: str) -> dict[str, Any]:
    from ganzoo.plugins import registry

    entry = registry().get(kind, name)
    info: dict[str, Any] = {
        "kind": kind,
        "name": registry().name_for(entry),
        "qualified_name": entry.qualified_name,
        "description": entry.description,
        "plugin": entry.plugin,
        "distribution": entry.distribution,
        "version": entry.version,
    }
    if kind == "pretrained":
        from ganzoo import zoo
        from ganzoo.sources import describe_generator

        info["entry"] = zoo.info(info["name"])
        try:
            info["generator"] = describe_generator(f"{zoo.PREFIX}{info['name']}")
        except GanzooError as exc:  # the entry is known even when its weights cannot be reached from here
            info["generator_error"] = str(exc)
    elif kind == "variant":
        from ganzoo.training.config import settings_table

        info["recipe"] = entry.obj.as_dict()
        info["settings"] = settings_table(entry.obj)
    else:
        info["options"] = {
            opt.name: {"type": opt.type_name, "default": opt.default} for opt in entry.obj.options().values()
        }
    return info


def _find_kind(name: str) -> list[str]:
    from ganzoo.plugins import registry
    from ganzoo.registry import KINDS

    reg = registry()
    return [k for k in KINDS if (k, name) in reg]


@cli.command("info")
@click.argument("name")
@click.option(
    "--kind",
    type=click.Choice(KIND_CHOICES + ["variant", "architecture", "loss", "dataset", "metric"]),
    help="Which kind NAME is, when several share it.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def info_command(name: str, kind: str | None, as_json: bool) -> None:
    """Everything about one registered NAME: where it comes from, its options and defaults.

    NAME may also be a generator: a pretrained generator's name (ganzoo zoo; its catalogue entry and its
    generator), a run or generator folder, or a Hub repo (hf-hub:ns/name or ns/name).
    """
    if kind is None and _looks_like_generator(name) and not _find_kind(name):
        return _generator_info(name, as_json)
    from ganzoo.registry import singular_kind

    kinds = [singular_kind(kind)] if kind else _find_kind(name)
    if not kinds:
        from ganzoo.errors import UnknownNameError
        from ganzoo.plugins import registry

        try:
            registry().get("variant", name)  # raises with suggestions
        except UnknownNameError as exc:
            if "did you mean" not in str(exc):
                registry().get("pretrained", name)  # a mistyped catalogue name gets the catalogue's suggestions
            raise
    infos = [_describe_entry(k, name) for k in kinds]
    if as_json:
        click.echo(json.dumps(infos if len(infos) > 1 else infos[0], indent=2, default=str))
        return
    for i, info in enumerate(infos):
        if i:
            click.echo()
        click.echo(f"{info['kind']} {info['name']}: {info['description']}")
        click.echo(f"  from plugin {info['plugin']} ({info['distribution']} {info['version']})")
        if info["kind"] == "pretrained":
            _show_pretrained(info["entry"])
            if "generator" in info:
                _show_generator(info["generator"])
            else:
                click.echo(f"generator: not available here: {info['generator_error']}")
            continue
        details = info.get("recipe") or info.get("options") or {}
        if details:
            click.echo("  recipe:" if "recipe" in info else "  options:")
        for key, value in details.items():
            if isinstance(value, dict) and "type" in value:
                click.echo(f"    {key}: {value['type']} = {value['default']!r}")
            else:
                click.echo(f"    {key}: {value!r}")
        if "settings" in info:
            keys = ", ".join(row["name"] for row in info["settings"] if row["set"])
            click.echo(
                f"  --set keys: {keys} (each: ganzoo info {info['name']} --kind variant --json, or docs/settings.md)"
            )


@cli.command("plugins")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def plugins_command(as_json: bool) -> None:
    """Installed plugins: name, distribution, version, hooks, load errors and name clashes."""
    from ganzoo.plugins import clashes, load_plugins, plugin_infos

    load_plugins()  # a bad GANZOO_LOAD_PLUGINS (or a strict failure) ends the command here, reported once
    found = []
    try:
        cli.list_commands(click.get_current_context())  # reads the plugins' commands, so their clashes count
        found = clashes()  # runs every register hook, so hook failures show up below
    except GanzooError as exc:
        click.echo(f"ganzoo: {exc}", err=True)
    infos = plugin_infos()
    if as_json:
        click.echo(json.dumps([i.as_dict(found) for i in infos], indent=2))
        return
    rows = [[i.name, i.distribution, i.version, ", ".join(h.removeprefix("register_") for h in i.hooks)] for i in infos]
    echo_table(rows, ["plugin", "distribution", "version", "hooks"])
    for i in infos:
        if i.error:
            click.echo(f"\n{i.name} ({i.distribution}) failed to load: {i.error}")
    if found:
        click.echo('\nname clashes (docs/plugins.md, "Name clashes"):')
        for clash in found:
            click.echo(f"  {clash.message()}")


def _check_project(path: str) -> None:
    """A local ``-e`` path must be a folder holding a Python project; URLs (``git+https://...``) go to pip as is."""
    if "://" in path or path.startswith(("git+", "hg+", "svn+", "bzr+")):
        return
    folder = Path(re.sub(r"\[[^\]]*\]$", "", path)).expanduser()  # "./plugin[extra]" names the folder ./plugin
    if not folder.is_dir():
        raise UsageError(
            f"-e {path}: {'not a folder' if folder.exists() else 'no such folder'}; "
            f"point -e at a plugin project folder (one holding pyproject.toml)"
        )
    if not any((folder / name).is_file() for name in ("pyproject.toml", "setup.py")):
        raise UsageError(
            f"-e {path}: the folder holds no pyproject.toml or setup.py, so it is no Python project; "
            f"point -e at a plugin project folder (see docs/plugins.md)"
        )


def _pip(args: list[str]) -> None:
    command = [sys.executable, "-m", "pip", *args]
    result = subprocess.run(command)
    if result.returncode != 0:
        raise GanzooError(f"pip {' '.join(args)} failed with exit code {result.returncode}")


@cli.command("install", context_settings={"ignore_unknown_options": True})
@click.argument("packages", nargs=-1)
@click.option("-U", "--upgrade", is_flag=True, help="Upgrade packages to their newest version.")
@click.option("-e", "--editable", multiple=True, help="Install a project in editable mode from a local path.")
@click.option("--force-reinstall", is_flag=True, help="Reinstall even when up to date.")
@click.option("--no-cache-dir", is_flag=True, help="Do not use pip's cache.")
def install_command(
    packages: tuple[str, ...], upgrade: bool, editable: tuple[str, ...], force_reinstall: bool, no_cache_dir: bool
) -> None:
    """Install plugin packages into ganzoo's own environment (pip); -e PATH installs a local plugin project."""
    if not packages and not editable:
        raise UsageError(
            "name the plugin packages to install, or -e PATH for a local plugin project "
            "(e.g. ganzoo install ganzoo-lsgan)"
        )
    for path in editable:
        _check_project(path)
    args = ["install"]
    args += ["--upgrade"] if upgrade else []
    args += ["--force-reinstall"] if force_reinstall else []
    args += ["--no-cache-dir"] if no_cache_dir else []
    for path in editable:
        args += ["-e", path]
    _pip(args + list(packages))
    _warn_of_clashes()


def _warn_of_clashes() -> None:
    """After an install: each name clash among the installed plugins, one line each, as a fresh ganzoo sees them."""
    env = {k: v for k, v in os.environ.items() if k not in ("GANZOO_STRICT_PLUGINS", "GANZOO_LOAD_PLUGINS")}
    result = subprocess.run(
        [sys.executable, "-m", "ganzoo", "plugins", "--json"], capture_output=True, text=True, env=env
    )
    try:
        infos = json.loads(result.stdout or "")
    except ValueError:  # ganzoo itself failed to start: pip's own output says more than we could
        return
    warnings = dict.fromkeys(
        clash["warning"] for info in (infos if isinstance(infos, list) else []) for clash in info.get("clashes", [])
    )
    for warning in warnings:
        click.echo(f'ganzoo: warning: {warning} (docs/plugins.md, "Name clashes")', err=True)


@cli.command("uninstall")
@click.argument("packages", nargs=-1, required=True)
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")
def uninstall_command(packages: tuple[str, ...], yes: bool) -> None:
    """Uninstall plugin packages from ganzoo's own environment (pip)."""
    _pip(["uninstall", *(["-y"] if yes else []), *packages])


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; every GanzooError or usage error becomes one line on stderr and an exit code."""
    debug = "--debug" in (argv if argv is not None else sys.argv[1:]) or bool(os.environ.get("GANZOO_DEBUG"))
    try:
        code = cli.main(args=argv, prog_name="ganzoo", standalone_mode=False)
        return code if isinstance(code, int) else 0
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.exceptions.Abort:
        click.echo("ganzoo: aborted", err=True)
        return 130
    except click.ClickException as exc:
        if debug:
            raise
        click.echo(f"ganzoo: error: {exc.format_message()}", err=True)
        return exc.exit_code
    except GanzooError as exc:
        if debug:
            raise
        click.echo(f"ganzoo: error: {exc}", err=True)
        return exc.exit_code
    except KeyboardInterrupt:
        click.echo("ganzoo: interrupted", err=True)
        return 130


def run() -> None:
    """The ``ganzoo`` command (and ``python -m ganzoo``): ``main`` on the process's arguments, then exit with its
    code. Every object is frozen out of the garbage collector first (``gc.freeze``): the interpreter's last
    collections would otherwise walk all of torch's objects on the way out, 0.8-1.4 s after a 300-step `ganzoo
    train` on a 2-core CPU (0.2-0.3 s frozen). Everything the command writes is closed before ``main`` returns, and
    the memory goes back to the system with the process."""
    code = main()
    gc.freeze()
    sys.exit(code)


def _train_seeds(request: Any, stack: bool | None) -> None:
    from ganzoo.training import train_seeds
    from ganzoo.training.loop import Stopped
    from ganzoo.training.seeds import stacking

    try:
        with stacking(stack):
            runs = train_seeds(request)
    except Stopped as stop:
        click.echo(
            f"ganzoo: stopped by signal {stop.args[0]}; checkpoints written, resume each seed with --resume OUT/seedN",
            err=True,
        )
        raise click.exceptions.Exit(stop.exit_code) from None
    for run in runs:
        config = run.config
        last = (run.metrics() or [{}])[-1]
        click.echo(
            f"seed {config.seed}: step {last.get('step', '?')}/{config.steps}  run {run.path}  "
            f"samples {run.latest_samples}"
        )


def _refuse_generator_init(init_from: str) -> None:
    """``--init-from`` fine-tunes a run: its latest checkpoint holds the discriminator and the EMA beside the
    generator. A pretrained generator's name or a generator folder holds the generator only, so it gets the two
    commands that make a run of it (``zoo build`` trains the entry's recipe again, bit for bit on a CPU)."""
    from ganzoo import zoo
    from ganzoo.folder import CONFIG_FILE, folder_kind

    path = Path(init_from)
    if path.exists():
        try:
            kind = folder_kind(path) if (path / CONFIG_FILE).is_file() else "run"
        except GanzooError:
            return  # the trainer says what is wrong with it
        if kind == "generator":
            raise UsageError(
                f"--init-from {init_from} is a generator folder: it holds the generator only, while fine-tuning starts "
                f"from a run folder's checkpoint (generator, discriminator and EMA); pass the run folder it was "
                f"packaged from"
            )
        return
    name = init_from.removeprefix(zoo.PREFIX)
    if zoo.is_registered(name):
        raise UsageError(
            f"--init-from {name} names a pretrained generator, which ships its generator only (fine-tuning needs the "
            f"discriminator too); make its run from the recipe, then fine-tune that: ganzoo zoo build {name} --out "
            f"zoo-build && ganzoo train --init-from zoo-build/runs/{name} --out runs/{name}-tuned (add --data, --steps)"
        )


@cli.command("train")
@click.argument("variant", required=False)
@click.option("--data", help="Data set (default: the variant's; e.g. mnist-5k, digits, ring, folder:PATH).")
@click.option("--steps", type=int, callback=positive, help="Total generator steps (default: the variant's).")
@click.option("--batch-size", type=int, callback=positive, help="Batch size per process.")
@click.option("--out", type=click.Path(file_okay=False), help="Run folder (default: runs/VARIANT-DATA-TIME).")
@click.option("--seed", type=int, help="Random seed (default: 0).")
@click.option(
    "--seeds",
    type=int,
    callback=positive,
    help="Train K runs, seeds SEED..SEED+K-1, together in this process, into OUT/seedN.",
)
@click.option(
    "--stack/--no-stack",
    "stack",
    default=None,
    help="--seeds: train the seeds as one batched computation (--stack: or refuse; default: when the "
    "recipe allows, else they take turns and one line says why).",
)
@click.option("--device", help="auto, cpu, cuda, cuda:K or mps (default: auto).")
@click.option(
    "--amp/--no-amp", default=None, help="bf16 autocast (default: on for CUDA and for CPUs with native bf16)."
)
@click.option("--ema", default=None, help="EMA decay of the generator, or 'none' (default: the variant's).")
@click.option("--compile", "compile", is_flag=True, default=None, help="torch.compile the networks.")
@click.option(
    "--cuda-graphs/--no-cuda-graphs",
    "cuda_graphs",
    default=None,
    help="Capture the whole step in one CUDA graph and replay it (default: on for CUDA).",
)
@click.option(
    "--set",
    "set",
    multiple=True,
    metavar="KEY=VALUE",
    help="Override a setting: lr=1e-4, lr_decay=linear, arch.g_width=32, loss.n_critic=3, data.size=64.",
)
@click.option(
    "--resume",
    type=click.Path(file_okay=False),
    help="Continue this run folder from its latest checkpoint (with its own configuration; --steps may grow).",
)
@click.option(
    "--init-from",
    "init_from",
    type=click.Path(file_okay=False),
    metavar="RUN",
    help="Start a new run (--out) whose networks start from RUN's latest checkpoint (fine-tuning; for a "
    "zoo entry, first `ganzoo zoo build NAME`).",
)
@click.option(
    "--force",
    is_flag=True,
    help="Start over in an --out folder that already holds a run (replaced once the new run is checked).",
)
@click.option("--sample-every", type=int, callback=positive, help="Write a sample grid every N steps.")
@click.option("--ckpt-every", type=int, callback=positive, help="Write a checkpoint every N steps.")
@click.option("--log-every", type=int, callback=positive, help="Log losses every N steps.")
@click.option("--keep", type=int, callback=positive, help="Keep the last K checkpoints.")
@click.option("--push-to-hub", "push_to_hub", metavar="REPO_ID", help="Publish the finished run to this Hub repo.")
@threads_option
def train_command(push_to_hub: str | None, stack: bool | None, **flags: Any) -> None:
    """Train VARIANT (default dcgan) on a data set (default: the variant's; dcgan uses mnist-5k).

    With neither VARIANT nor --data, the default run: dcgan on mnist-5k at a learning rate of 1.5e-3 (the recipe's
    is the paper's 2e-4), which scores far better at its 1,200 steps; --set lr=... sets another.
    """
    from ganzoo.training import TrainRequest, train
    from ganzoo.training.loop import Stopped

    if flags["ema"] is None:
        flags["ema"] = "variant"
    else:
        from ganzoo.options import coerce

        flags["ema"] = coerce(flags["ema"], float | None, "--ema")
    request = TrainRequest(**flags)
    if push_to_hub:  # a bad repo id or a missing token is refused now, not after the whole run has trained
        from ganzoo.hub import check_repo_id, require_token

        check_repo_id(push_to_hub)
        require_token(None)
    if request.init_from is not None:
        _refuse_generator_init(request.init_from)
    if stack is not None and request.seeds is None:
        raise UsageError(f"--{'' if stack else 'no-'}stack is about the seeds of --seeds K; add --seeds, or drop it")
    if request.seeds is not None:
        if request.resume:
            raise UsageError(
                f"--seeds trains new runs; resume each seed's run on its own (--resume {request.resume}/seedN), "
                "or drop --seeds"
            )
        if request.init_from:
            raise UsageError("--seeds starts new runs from scratch; drop --init-from or --seeds")
        if push_to_hub:
            raise UsageError(
                "--push-to-hub publishes one run; train the seeds, then `ganzoo push OUT/seedN REPO_ID` "
                "the one to publish"
            )
        _train_seeds(request, stack)
        return
    try:
        run = train(request)
    except Stopped as stop:
        click.echo(f"ganzoo: stopped by signal {stop.args[0]}; checkpoint written, resume with --resume", err=True)
        raise click.exceptions.Exit(stop.exit_code) from None
    if push_to_hub:
        from ganzoo.hub import push_run

        url = push_run(run.path, push_to_hub)
        click.echo(f"pushed:     {url}")


# ---- `info` for generators (push, pull, search and the zoo: ganzoo/cli_hub.py) --------------------------------------


def _looks_like_generator(name: str) -> bool:
    """A path that exists, ``hf-hub:...``, ``zoo:...`` or ``namespace/name`` (registry names never hold a '/')."""
    return name.startswith(("hf-hub:", "zoo:")) or "/" in name or Path(name).exists()


def _show_pretrained(entry: dict[str, Any]) -> None:
    """A catalogue entry (``ganzoo.zoo.info``) as ``ganzoo info`` prints it."""
    click.echo(f"  recipe: {entry['recipe']}")
    where = entry["weights"] + (f" ({entry['folder']})" if entry.get("folder") else "")
    click.echo(f"  weights: {where}")
    if entry["sha256"]:
        offline = (
            "available offline" if entry["available_offline"] else "not available offline (downloaded on first use)"
        )
        click.echo(
            f"  model.safetensors: sha256 {entry['sha256']}, {human_size(entry['size'])}, {entry['dtype']}; {offline}"
        )
    else:
        click.echo(f"  model.safetensors: not built yet (ganzoo zoo build {entry['name']})")
    click.echo(f"  license: {entry['license']}")
    ev = entry["evaluation"]
    settings = ", ".join(
        f"{k}={ev[k]}" for k in ("n", "split", "seed", "features", "data", "options") if ev.get(k) not in (None, {}, "")
    )
    click.echo(f"  evaluation: {', '.join(ev['metrics'])} ({settings})")
    for item in entry["metrics"]:
        values = ", ".join(f"{k}={v:.6g}" if isinstance(v, float) else f"{k}={v}" for k, v in item["values"].items())
        click.echo(f"    {item['metric']}: {values}")


def _generator_info(source: str, as_json: bool) -> None:
    from ganzoo.sources import describe_generator

    info = describe_generator(source)
    if as_json:
        click.echo(json.dumps(info, indent=2, default=str))
        return
    if "pretrained" in info:
        entry = info["pretrained"]
        click.echo(f"pretrained {entry['name']}: {entry['description']}")
        click.echo(f"  from plugin {entry['plugin']} ({entry['distribution']} {entry['version']})")
        _show_pretrained(entry)
    _show_generator(info)


def _show_generator(info: dict[str, Any]) -> None:
    """What ``describe_generator`` found, as ``ganzoo info`` prints it."""
    config = info["config"]
    click.echo(f"generator {info['source']}")
    for key, value in config.items():
        if key == "metrics":
            continue
        shown = json.dumps(value, sort_keys=True) if isinstance(value, (dict, list)) else value
        click.echo(f"  {key}: {shown}")
    metrics = config.get("metrics") or []
    if metrics:
        click.echo("  metrics (eval.json):" if info.get("kind") == "run" else "  metrics (config.json):")
        for item in metrics:
            values = ", ".join(
                f"{k}={v:.6g}" if isinstance(v, (int, float)) else f"{k}={v}" for k, v in item["values"].items()
            )
            protocol = ", ".join(
                f"{k}={v}" for k, v in (item.get("protocol") or {}).items() if v not in (None, "", [], {})
            )
            click.echo(f"    {item['metric']}: {values}" + (f"  [{protocol}]" if protocol else ""))
    card = info.get("card") or {}
    if card.get("metrics"):
        click.echo("  metrics (model card):")
        for m in card["metrics"]:
            where = ", ".join(str(x) for x in (m.get("dataset"), m.get("split")) if x)
            click.echo(f"    {m['metric']}: {m['value']}" + (f" ({where})" if where else ""))
    if card.get("tags"):
        click.echo(f"  card tags: {', '.join(card['tags'])}")


# ---- Evaluation and benchmarks --------------------------------------------------------------------------------------


@cli.command("eval")
@click.argument("source")
@click.option("--data", help="Data set to score against (default: the one SOURCE was trained on, with its options).")
@click.option(
    "--metrics",
    "metric_names",
    metavar="NAMES",
    help="Comma list, e.g. fid,kid,prdc (default: modes for 2-D mixtures; fid,kid,prdc (+classes with "
    "digits-cnn) for images).",
)
@click.option(
    "--n",
    "count",
    type=int,
    callback=positive,
    help="Samples to generate and score (default: 2500 points, or the real split's size for images, at most 10000).",
)
@click.option(
    "--seed",
    type=int,
    help="Seeds the noise, the real subset and KID's subsets (default: 0; a pretrained generator's: its entry's).",
)
@click.option(
    "--split",
    type=click.Choice(["train", "test", "all"]),
    help="Real split to score against (default: test; a pretrained generator's: its entry's).",
)
@click.option(
    "--features",
    metavar="SPEC",
    help="Feature extractor: digits-cnn, mnist-cnn, inception, timm:MODEL (default: per data set).",
)
@click.option(
    "--option",
    "metric_options",
    multiple=True,
    metavar="METRIC.KEY=VALUE",
    help="A metric option, e.g. kid.subsets=10, prdc.k=3.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
@click.option("--device", default=None, help="auto, cpu, cuda, cuda:K or mps.")
@click.option("--no-save", is_flag=True, help="Do not store the results in RUN/eval.json.")
@click.option(
    "--ema/--no-ema",
    default=True,
    show_default=True,
    help="A run's EMA weights (when it has some: what sample draws and push publishes), or its raw generator "
    "(better before step 300: benchmarks/ema_vs_raw.py).",
)
@threads_option
def eval_command(
    source: str,
    data: str | None,
    metric_names: str | None,
    count: int | None,
    seed: int | None,
    split: str | None,
    features: str | None,
    metric_options: tuple[str, ...],
    as_json: bool,
    device: str | None,
    no_save: bool,
    ema: bool,
) -> None:
    """Score SOURCE (a pretrained generator's name, a run folder, a generator folder or a Hub repo) against a data
    set's real samples.

    For a run folder the results also go to RUN/eval.json, which `ganzoo push` puts in the model card.
    A pretrained generator is scored with its catalogue entry's protocol unless options say otherwise.
    """
    from ganzoo.device import resolve_device
    from ganzoo.metrics.report import evaluate_source, format_results, parse_options, weights_line

    if resolve_device(device).type == "cpu":
        cpu.use()  # (the feature extractor's size is not known here: no cap for a small model)
    results, written = evaluate_source(
        source,
        data=data,
        metrics=metric_names,
        n=count,
        seed=seed,
        split=split,
        features=features,
        device=None if device in (None, "auto") else device,
        options=parse_options(metric_options),
        record=not no_save,
        ema=ema,
    )
    if as_json:
        click.echo(json.dumps([r.as_dict() for r in results], indent=2))
        return
    click.echo(format_results(results))
    said = weights_line(results[0].protocol) if results else None
    if said:
        click.echo(said)
    if written is not None:
        click.echo(f"saved:    {written}")


@cli.command("bench")
@click.argument("variants", nargs=-1, required=True)
@click.option("--data", help="Data set every variant trains on (default: the variants' own, when they share one).")
@click.option("--steps", type=int, callback=positive, help="Generator steps per run (default: each variant's own).")
@click.option(
    "--seeds", type=int, default=3, show_default=True, callback=positive, help="Runs per variant, seeds 0..K-1."
)
@click.option("--metrics", "metric_names", metavar="NAMES", help="Comma list (default as for `ganzoo eval`).")
@click.option(
    "--n", "count", type=int, callback=positive, help="Samples scored per run (default as for `ganzoo eval`)."
)
@click.option("--out", default=None, type=click.Path(file_okay=False), help="Benchmark folder (default: bench/DATA).")
@click.option(
    "--set",
    "sets",
    multiple=True,
    metavar="KEY=VALUE",
    help="Override a setting of every variant, as for `ganzoo train`.",
)
@click.option("--batch-size", type=int, callback=positive, help="Batch size of every variant.")
@click.option("--features", metavar="SPEC", help="Feature extractor for image metrics (default: per data set).")
@click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda, cuda:K or mps.")
@click.option(
    "--progress/--no-progress",
    default=None,
    help="A progress bar on stderr (default: only when stderr is a terminal; otherwise one line per finished run).",
)
@click.option(
    "--ray",
    "ray_address",
    is_flag=False,
    flag_value="",
    default=None,
    metavar="[ADDRESS]",
    help="Run the runs as Ray tasks: alone, on a Ray started here; with HOST:PORT, ray://HOST:PORT or auto, "
    "on that cluster (needs ganzoo[ray]).",
)
@click.option("--ray-cpus", type=float, default=None, metavar="N", help="CPUs per Ray task (default: 1).")
@click.option(
    "--ray-gpus",
    type=float,
    default=None,
    metavar="N",
    help="GPUs per Ray task, a fraction shares one (default: 1 with --device cuda, else 0).",
)
@click.option(
    "--ray-runs-per-task",
    type=int,
    default=None,
    callback=positive,
    metavar="K",
    help="Runs of one variant trained together in one Ray task (default: 1).",
)
@threads_option
def bench_command(
    variants: tuple[str, ...],
    data: str | None,
    steps: int | None,
    seeds: int,
    metric_names: str | None,
    count: int | None,
    out: str | None,
    sets: tuple[str, ...],
    batch_size: int | None,
    features: str | None,
    device: str,
    progress: bool | None,
    ray_address: str | None,
    ray_cpus: float | None,
    ray_gpus: float | None,
    ray_runs_per_task: int | None,
) -> None:
    """Train each VARIANT --seeds times, evaluate every run on the test split, and write OUT/report.md with pictures.

    Runs live in OUT/runs/VARIANT-seedS; running the same command again skips finished runs.
    With --ray the runs train as Ray tasks, in parallel, into the same folders.
    """
    from ganzoo.bench import bench, markdown

    runner = None
    if ray_address is not None:
        from ganzoo.bench_ray import RayRunner

        runner = RayRunner(
            ray_address or None,
            cpus=1.0 if ray_cpus is None else ray_cpus,
            gpus=ray_gpus,
            runs_per_task=ray_runs_per_task or 1,
        )
    else:
        given = [
            name
            for name, value in (
                ("--ray-cpus", ray_cpus),
                ("--ray-gpus", ray_gpus),
                ("--ray-runs-per-task", ray_runs_per_task),
            )
            if value is not None
        ]
        if given:
            raise UsageError(f"{given[0]} applies only with --ray")

    if out is None:
        from ganzoo.plugins import registry

        base = data or registry().get("variant", variants[0]).obj.data
        out = str(Path("bench") / (folder_word(base) or "data"))
    from ganzoo.training.loop import Stopped

    try:
        report = bench(
            list(variants),
            data,
            steps=steps,
            seeds=seeds,
            metrics=metric_names,
            n=count,
            out=out,
            set=list(sets),
            batch_size=batch_size,
            features=features,
            device=device,
            progress=progress,
            runner=runner,
        )
    except Stopped as stop:
        click.echo(
            f"ganzoo: stopped by signal {stop.args[0]}; checkpoint written, run the same command again to go on",
            err=True,
        )
        raise click.exceptions.Exit(stop.exit_code) from None
    table = markdown(report).split("\n## ", 1)[0].rstrip()
    click.echo(table)
    click.echo("")
    for name in ("report.md", "report.json", "samples.png", "metrics.png", "losses.png"):
        click.echo(f"{name + ':':13} {Path(out) / name}")


# the commands that publish and fetch generators (ganzoo/cli_hub.py)
cli.add_command(push_command)
cli.add_command(pull_command)
cli.add_command(search_command)
cli.add_command(zoo_command)
cli.add_command(check_command)
cli.add_command(sample_command)

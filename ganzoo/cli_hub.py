"""The ``ganzoo`` commands that publish and fetch generators: push, pull and search on the Hub, and the zoo of
pretrained generators (list, build, verify). ``ganzoo.cli`` adds them to its group."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from ganzoo.cli_shared import echo_table, positive
from ganzoo.errors import GanzooError
from ganzoo.files import human_size
from ganzoo.pretrained import DTYPES
from ganzoo.values import as_json


@click.command("push")
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False))
@click.argument("repo_id")
@click.option("--private", is_flag=True, help="Create the repo private (when it does not exist yet).")
@click.option("--revision", metavar="BRANCH", help="Commit to this branch (created from main when missing).")
@click.option(
    "--create-pr", is_flag=True, help="Open a pull request with the commit instead of committing to the branch."
)
@click.option("--token", help="Hub token (default: HF_TOKEN or the saved login).")
@click.option("--with-discriminator", is_flag=True, help="Also publish discriminator.safetensors.")
@click.option("-m", "--message", help="Commit message.")
@click.option(
    "--license",
    "license_",
    metavar="ID",
    help="Hub licence id for the model card (default: the data set's, when it declares one).",
)
@click.option("--no-ema", "raw", is_flag=True, help="Publish a run's raw generator weights instead of its EMA weights.")
@click.option(
    "--dtype",
    type=click.Choice(DTYPES),
    default="float32",
    show_default=True,
    help="Precision model.safetensors stores the weights in (float16 halves the file).",
)
def push_command(
    run_dir: str,
    repo_id: str,
    private: bool,
    revision: str | None,
    create_pr: bool,
    token: str | None,
    with_discriminator: bool,
    message: str | None,
    license_: str | None,
    raw: bool,
    dtype: str,
) -> None:
    """Publish RUN_DIR's generator (or a generator folder) to the Hub repo REPO_ID, in one commit.

    The repo gets config.json, model.safetensors (EMA weights when the run has them),
    README.md (model card) and samples.png. Prints the repo URL.
    """
    from ganzoo.hub import push_generator

    url = push_generator(
        Path(run_dir),
        repo_id.removeprefix("hf-hub:"),
        private=private,
        revision=revision,
        create_pr=create_pr,
        token=token,
        with_discriminator=with_discriminator,
        message=message,
        license=license_,
        ema=not raw,
        dtype=dtype,
    )
    click.echo(url)


@click.command("pull")
@click.argument("repo_id")
@click.option("--revision", help="Branch, tag or commit (default: main, or REPO_ID@REVISION).")
@click.option(
    "--dir", "local_dir", type=click.Path(file_okay=False), help="Download into this folder instead of the Hub cache."
)
@click.option("--token", help="Hub token (default: HF_TOKEN or the saved login).")
def pull_command(repo_id: str, revision: str | None, local_dir: str | None, token: str | None) -> None:
    """Download the generator repo REPO_ID (hf-hub:ns/name[@rev] or ns/name) and print where it is."""
    from ganzoo.hub import folder_problem, pull_generator

    path = pull_generator(repo_id, revision=revision, local_dir=local_dir, token=token)
    problem = folder_problem(path)
    if problem:
        click.echo(f"ganzoo: warning: {problem}", err=True)
    click.echo(str(path))


@click.command("search")
@click.argument("query", required=False)
@click.option("--limit", type=int, default=20, show_default=True, callback=positive, help="At most this many results.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--token", help="Hub token (default: HF_TOKEN or the saved login).")
def search_command(query: str | None, limit: int, as_json: bool, token: str | None) -> None:
    """List generators published on the Hub with library_name: ganzoo (QUERY filters repo names)."""
    from ganzoo.hub import search_generators

    found = search_generators(query, limit=limit, token=token)
    if as_json:
        click.echo(json.dumps(found, indent=2))
        return
    if not found:
        click.echo("no ganzoo generators found" + (f" for {query!r}" if query else ""))
        return

    def metric(m: dict[str, Any] | None) -> str:
        if not m:
            return "-"
        value = m["value"]
        return f"{m['name']}={value:.4g}" if isinstance(value, (int, float)) else f"{m['name']}={value}"

    rows = [
        [
            f["id"],
            f["variant"] or "-",
            f["data"] or "-",
            f["architecture"] or "-",
            metric(f["metric"]),
            str(f["downloads"]) if f["downloads"] is not None else "-",
        ]
        for f in found
    ]
    echo_table(rows, ["repo", "variant", "data", "architecture", "metric", "downloads"])


@click.group("zoo", invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print the catalogue as JSON.")
@click.pass_context
def zoo_command(ctx: click.Context, as_json: bool) -> None:
    """The catalogue of pretrained generators that installed plugins ship or pin on the Hub.

    Without a subcommand: lists each one's variant, data set, headline metrics, weights size, where the
    weights are and whether they load offline. Use one by name: `ganzoo sample NAME`, `ganzoo eval NAME`,
    `ganzoo info NAME`, or `ganzoo.load_generator("NAME")` in Python.
    """
    if ctx.invoked_subcommand is not None:
        return
    from ganzoo import zoo

    found = zoo.catalogue()
    if as_json:
        click.echo(json.dumps(found, indent=2))
        return
    if not found:
        click.echo("the catalogue is empty: no installed plugin registers pretrained generators (see docs/zoo.md)")
        return
    rows = []
    for item in found:
        entry = zoo.get_pretrained(item["name"])
        offline = ("yes" if item["available_offline"] else "no") if item["sha256"] else "not built"
        rows.append(
            [
                item["name"],
                item["variant"],
                item["data_set"],
                entry.headline() or "-",
                human_size(item["size"]),
                item["weights"],
                offline,
            ]
        )
    echo_table(rows, ["name", "variant", "data", "metrics", "size", "weights", "offline"])


def _python_values(result: dict[str, Any]) -> list[str]:
    """The keyword arguments of a Pretrained(...) entry that a build measured, as Python source lines to paste.

    A keyword the entry does not set yet is printed under "# add ...", one it sets to another value under
    "# replace ..."; one it already sets to the printed value is left out, so pasting never repeats a keyword
    (which is a SyntaxError that makes the whole plugin fail to import)."""
    import pprint

    measured: dict[str, Any] = {"sha256": result["sha256"], "size": result["size"], "metrics": list(result["metrics"])}
    note: dict[str, str] = {}
    if result["tolerance_missing"]:  # an entry must state how far each recorded value may stray when measured again
        measured["tolerance"] = {**result["tolerance"], **{name: 0.0 for name in result["tolerance_missing"]}}
        note["tolerance"] = "  # 0.0 is new here: set how far each may stray (absolute)"
    if result.get("hub_repo"):
        measured.update(hub_repo=result["hub_repo"], hub_revision=result["hub_revision"])
    recorded = result.get("recorded", {})
    add, replace = [], []
    for key, value in measured.items():
        held = recorded.get(key)
        if held is not None and as_json(held) == as_json(value):
            continue
        if key == "metrics":
            lines = ["    metrics=["]
            for item in value:
                text = pprint.pformat(item, width=110, sort_dicts=False)
                lines += ["        " + line for line in text.splitlines()]
                lines[-1] += ","
            lines.append("    ],")
        else:
            lines = [f"    {key}={value!r},{note.get(key, '')}"]
        (add if as_json(held) in (None, [], {}) else replace).extend(lines)
    out = []
    if add:
        out += ["# add these lines to the Pretrained(...) call:", *add]
    if replace:
        out += ["# replace these keywords of the Pretrained(...) call (the entry holds other values):", *replace]
    if not out:
        out.append("# the entry already records these values: nothing to paste")
    return out


@zoo_command.command("build")
@click.argument("names", nargs=-1, required=True)
@click.option(
    "--out",
    default="zoo-build",
    show_default=True,
    help="Build folder: runs in OUT/runs/NAME, generator folders in OUT/NAME.",
)
@click.option(
    "--push",
    "push",
    metavar="ORG",
    help="Push each generator folder to the Hub repo ORG/NAME and print the commit to pin.",
)
@click.option(
    "--force", is_flag=True, help="Train again even when OUT/runs/NAME holds the finished run (or another run)."
)
@click.option("--device", default=None, help="auto, cpu, cuda, cuda:K or mps (CPU training repeats bit for bit).")
@click.option("--token", help="Hub token for --push (default: HF_TOKEN or the saved login).")
def zoo_build_command(
    names: tuple[str, ...], out: str, push: str | None, force: bool, device: str | None, token: str | None
) -> None:
    """Make pretrained generators again from their catalogue recipes, and print the values their entries record.

    Trains each NAME into OUT/runs/NAME (a finished run with the same configuration is reused), scores it with
    the entry's evaluation protocol, writes the generator folder OUT/NAME (the entry's dtype and licence, model
    card included) and prints sha256, size and metrics, ready to paste into the entry.
    """
    from ganzoo import zoo_build

    built = zoo_build.build(
        list(names), out, push=push, force=force, device=None if device in (None, "auto") else device, token=token
    )
    for i, result in enumerate(built):
        if i:
            click.echo()
        recorded = result["recorded_sha256"]
        if recorded is None:
            note = "the entry records no sha256 yet"
        elif recorded == result["sha256"]:
            note = "sha256 matches the catalogue entry"
        else:
            note = f"sha256 differs from the catalogue entry's {recorded}"
        done = {"train": "trained", "restart": "trained again", "resume": "resumed", "reuse": "finished run reused"}[
            result["trained"]
        ]
        click.echo(f"# {result['name']}: {result['folder']} (run {result['run']}: {done}; {note})")
        for line in _python_values(result):
            click.echo(line)


@zoo_command.command("verify")
@click.argument("names", nargs=-1, required=True)
@click.option("--device", default=None, help="auto, cpu, cuda, cuda:K or mps.")
@click.option("--json", "as_json", is_flag=True, help="Print the comparison as JSON.")
def zoo_verify_command(names: tuple[str, ...], device: str | None, as_json: bool) -> None:
    """Load each pretrained generator NAME (its sha256 checked), score it again with its recorded protocol and
    compare with the recorded figures; exit code 1 when any is off by more than its tolerance."""
    from ganzoo import zoo_build
    from ganzoo.metrics.report import format_value

    checked = zoo_build.verify(list(names), device=None if device in (None, "auto") else device)
    if as_json:
        click.echo(json.dumps(checked, indent=2))
    else:
        for i, item in enumerate(checked):
            if i:
                click.echo()
            click.echo(
                f"{item['name']}: weights sha256 ok; {'every figure within its tolerance' if item['ok'] else 'OFF'}"
            )

            def show(value: Any) -> str:
                return value if isinstance(value, str) else format_value(value)

            rows = [
                [
                    r["metric"] if r["value"] == r["metric"] else f"{r['metric']}.{r['value']}",
                    show(r["recorded"]),
                    show(r["measured"]),
                    format_value(r["tolerance"]),
                    "ok" if r["ok"] else "OFF",
                ]
                for r in item["rows"]
            ]
            echo_table(rows, ["metric", "recorded", "measured", "tolerance", "ok"])
    off = [(item["name"], r) for item in checked for r in item["rows"] if not r["ok"]]
    if off:
        name, r = off[0]
        more = f" (and {len(off) - 1} more)" if len(off) > 1 else ""
        raise GanzooError(
            f"{name}: {r['metric']}.{r['value']} measured {r['measured']}, recorded {r['recorded']}, off by more than "
            f"its tolerance {r['tolerance']:g}{more}; the weights or the evaluation changed"
        )

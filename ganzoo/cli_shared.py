"""What the ``ganzoo`` command's modules share: a plain-text table, a positive-integer check and ``--threads``."""

from __future__ import annotations

from typing import Any

import click

import ganzoo.cpu as cpu


def echo_table(rows: list[list[str]], headers: list[str]) -> None:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip()
    click.echo(line)
    click.echo("  ".join("-" * w for w in widths))
    for row in rows:
        click.echo("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())


def positive(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    if value is not None and value < 1:
        raise click.BadParameter(f"must be a positive integer, got {value}")
    return value


def threads_option(command: Any) -> Any:
    """``--threads N``: torch's CPU threads, checked as the command line is read (GANZOO_THREADS too)."""

    def given(_ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
        cpu.request(value)
        cpu.check_request()

    return click.option(
        "--threads",
        metavar="N",
        expose_value=False,
        callback=given,
        help="CPU threads to compute with (default: GANZOO_THREADS, else OMP_NUM_THREADS, else about one per core "
        "not already busy, fewer for a small model).",
    )(command)

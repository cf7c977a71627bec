"""The ``ganzoo check`` command: run the plugin contracts on one named entry (``ganzoo.cli`` adds it)."""

from __future__ import annotations

import click

from ganzoo.plugin_check import CHECKED_KINDS


@click.command("check")
@click.argument("name")
@click.option(
    "--kind",
    type=click.Choice(list(CHECKED_KINDS)),
    help="Which kind NAME is, when several share it (default: every kind it names).",
)
@click.option(
    "--data",
    metavar="DATASET",
    help="Data set to probe an architecture or variant on, or to score a "
    "metric on (default: small built-in shapes; ring or digits).",
)
@click.option("--device", default="cpu", show_default=True, help="cpu, cuda, cuda:K or mps.")
def check_command(name: str, kind: str | None, data: str | None, device: str) -> None:
    """Check that a variant, architecture, data set or metric keeps ganzoo's plugin contracts.

    A data set's train and test splits (kind, dtype, shape, finite values, labels); an architecture's networks on a
    probe batch (shapes, dtype, images in [-1, 1]); a metric's figures on a perturbed real sample; a variant's whole
    set-up. Prints one "ok" line per entry and exits 0, or prints the broken rule and exits 2. Nothing is written.
    """
    from ganzoo.plugin_check import check

    for line in check(name, kind=kind, data=data, device=device):
        click.echo(line)

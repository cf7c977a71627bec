"""A second entry point of the same distribution, called ``lsgan`` like the ganzoo-lsgan plugin; it adds a command."""

import click

from ganzoo import hookimpl


@hookimpl
def register_commands(cli):
    @cli.command("clash-hello")
    def hello():
        """Say that the clash plugin is here."""
        click.echo("clash plugin says hello")

"""The ``gatehouse`` command: a Flask CLI group of thin commands over ``app.services``."""

from __future__ import annotations

import sys

import click
from flask.cli import FlaskGroup

from app.cli import clients, keys, serve, setup, users
from app.config import ConfigError


def _create_app():
    from app import create_app

    try:
        return create_app()
    except ConfigError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(2)


@click.group(cls=FlaskGroup, create_app=_create_app, add_version_option=False)
def cli() -> None:
    """Gatehouse: OAuth 2.0 client-credentials server for system integrations."""


for command in (
    setup.init,
    serve.serve,
    users.users,
    users.services,
    clients.clients,
    keys.keys,
):
    cli.add_command(command)


def main() -> None:
    """Console-script entry point."""
    cli.main(prog_name="gatehouse")

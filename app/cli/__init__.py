"""The ``gatehouse`` command: a Flask CLI group of thin commands over ``app.services``."""

from __future__ import annotations

import sys

import click
from flask import Flask
from flask.cli import FlaskGroup

from app.cli import clients, keys, mail, serve, setup, users
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


COMMANDS = (
    setup.init,
    serve.serve,
    users.users,
    users.services,
    clients.clients,
    keys.keys,
    mail.worker,
    mail.mail,
)
for command in COMMANDS:
    cli.add_command(command)


def register_cli(app: Flask) -> None:
    """Also offer the commands on ``app.cli`` (``flask --app app …`` and the test runner)."""
    for command in COMMANDS:
        app.cli.add_command(command)


def main() -> None:
    """Console-script entry point."""
    cli.main(prog_name="gatehouse")

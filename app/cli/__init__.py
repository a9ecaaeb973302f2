"""The ``gatehouse`` command: thin click commands over ``app.services``.

A plain click group rather than Flask's ``FlaskGroup``: users see Gatehouse's
commands only, not Flask's development ``run``, ``shell``, ``routes``, the
migration tool's ``db`` or ``--app``/``--debug`` (``gatehouse init`` migrates).
Commands reach the app through Flask's ``ScriptInfo`` and ``with_appcontext``,
so a test runner can hand them its own app.
"""

from __future__ import annotations

import sys

import click
from flask import Flask
from flask.cli import ScriptInfo

from app import create_app
from app.cli import clients, keys, mail, serve, setup, users
from app.config import ConfigError


def _create_app() -> Flask:
    try:
        return create_app()
    except ConfigError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(2)


class GatehouseGroup(click.Group):
    """Builds the app from the environment when a command first needs it."""

    def make_context(self, info_name, args, parent=None, **extra):  # type: ignore[no-untyped-def]
        extra.setdefault("obj", ScriptInfo(create_app=_create_app, set_debug_flag=False))
        return super().make_context(info_name, args, parent=parent, **extra)


@click.group(cls=GatehouseGroup)
def cli() -> None:
    """Gatehouse: OAuth 2.0 client-credentials server for system integrations."""


for command in (
    setup.init,
    serve.serve,
    users.users,
    users.services,
    clients.clients,
    keys.keys,
    mail.worker,
    mail.mail,
):
    cli.add_command(command)


def main() -> None:
    """Console-script entry point."""
    cli.main(prog_name="gatehouse")

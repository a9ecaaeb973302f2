"""``gatehouse init``: schema, signing key, catalogue, and (with --admin) the first admin."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_migrate import upgrade

from app.cli.output import domain_errors, emit, json_option
from app.services import catalogue, users
from app.services.runtime import runtime, settings


@click.command()
@click.option(
    "--admin",
    is_flag=True,
    help="Also create the first admin if there is none (GATEHOUSE_ADMIN_EMAIL/_PASSWORD, "
    "or a generated password printed once).",
)
@json_option
@with_appcontext
@domain_errors
def init(admin: bool, as_json: bool) -> None:
    """Create or upgrade the schema, create a signing key if none, seed the catalogue."""
    upgrade(directory=current_app.extensions["migrate"].directory)
    key = runtime().keys.ensure(settings().signing_alg)
    added = catalogue.seed_defaults()
    result = {
        "database": "up to date",
        "signing_key": key.kid if key else runtime().keys.signing_key().kid,
        "key_created": key is not None,
        "services_added": added,
    }
    if admin:
        created = users.ensure_admin(settings().admin_email, settings().admin_password)
        if created:
            user, password = created
            result["admin_created"] = user.email
            if password:
                result["admin_password"] = password
    emit(result, as_json, _describe)


def _describe(result: dict) -> str:
    lines = [
        "database: up to date",
        f"signing key: {result['signing_key']}" + (" (created)" if result["key_created"] else ""),
        f"services added: {result['services_added']}",
    ]
    if "admin_created" in result:
        lines.append(f"first admin: {result['admin_created']}")
        if "admin_password" in result:
            lines.append(f"  password: {result['admin_password']}  (shown once: store it now)")
    return "\n".join(lines)

"""``gatehouse clients …``: generate, list, revoke and rotate system access tokens."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from app.cli.output import domain_errors, emit, json_option, split_list
from app.services import client_queries
from app.services import clients as client_service
from app.services.actors import Actor


@click.group()
def clients() -> None:
    """OAuth clients (system access tokens)."""


@clients.command("create")
@click.option("--owner", required=True, help="Email of the user the token is for.")
@click.option("--name", required=True)
@click.option("--services", required=True, help="Comma-separated scopes, e.g. jobs,candidates.")
@click.option("--expires", required=True, help="Last valid day, YYYY-MM-DD (UTC).")
@click.option("--description", default="")
@json_option
@with_appcontext
@domain_errors
def create(owner: str, name: str, services: str, expires: str, description: str, as_json: bool):
    """Generate a client; prints its id and secret (shown this once only)."""
    issued = client_service.create_client(
        Actor.cli(),
        owner_email=owner,
        name=name,
        scopes=split_list(services),
        expires_on=expires,
        description=description,
    )
    client = issued.client
    record = {
        "client_id": client.client_id,
        "client_secret": issued.secret,
        "name": client.name,
        "scopes": client.scopes,
        "expires_on": client.expires_on.isoformat(),
    }
    emit(record, as_json, _created_text)


def _created_text(record: dict) -> str:
    return (
        f"client_id:     {record['client_id']}\n"
        f"client_secret: {record['client_secret']}\n"
        f"name: {record['name']}  scopes: {' '.join(record['scopes'])}  "
        f"expires_on: {record['expires_on']}\n"
        "Store the secret now: it is not shown again."
    )


@clients.command("list")
@click.option("--owner", default=None, help="Only this owner's clients.")
@click.option(
    "--status",
    type=click.Choice(["active", "inactive", "all"]),
    default="active",
    show_default=True,
)
@json_option
@with_appcontext
@domain_errors
def list_clients(owner: str | None, status: str, as_json: bool) -> None:
    """List clients."""
    found = client_queries.list_clients(Actor.cli(), owner=owner, status=status)
    records = [client_queries.describe(client) for client in found]
    emit(records, as_json, _list_text)


def _list_text(records: list[dict]) -> str:
    if not records:
        return "no clients"
    return "\n".join(
        f"{r['client_id']}\t{r['status']}\t{r['owner']}\t{r['name']}\t"
        f"{','.join(r['scopes'])}\texpires {r['expires_on']}"
        for r in records
    )


@clients.command("revoke")
@click.argument("client_id")
@json_option
@with_appcontext
@domain_errors
def revoke(client_id: str, as_json: bool) -> None:
    """Revoke a client and every token it ever got (permanent)."""
    client, already = client_service.revoke_client(Actor.cli(), client_id)
    record = client_queries.describe(client) | {"already_revoked": already}
    emit(
        record,
        as_json,
        lambda r: (
            f"client {r['client_id']} was already revoked (at {r['revoked_at']})"
            if already
            else f"revoked client {r['client_id']}"
        ),
    )


@clients.command("rotate-secret")
@click.argument("client_id")
@click.option(
    "--grace",
    default=0,
    show_default=True,
    type=click.IntRange(0),
    help="Seconds the old secret keeps working.",
)
@json_option
@with_appcontext
@domain_errors
def rotate_secret(client_id: str, grace: int, as_json: bool) -> None:
    """Issue a new secret (shown once); the old one works for --grace seconds."""
    issued = client_service.rotate_secret(Actor.cli(), client_id, grace)
    until = issued.previous_valid_until
    record = {
        "client_id": issued.client.client_id,
        "client_secret": issued.secret,
        "previous_secret_valid_until": until.replace(microsecond=0).isoformat() + "Z"
        if until
        else None,
    }
    emit(
        record,
        as_json,
        lambda r: (
            f"client_id:     {r['client_id']}\nclient_secret: {r['client_secret']}\n"
            + (
                f"the previous secret works until {r['previous_secret_valid_until']}\n"
                if until
                else "the previous secret no longer works\n"
            )
            + "Store the secret now: it is not shown again."
        ),
    )

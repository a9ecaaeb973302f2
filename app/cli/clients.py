"""``gatehouse clients …``: generate, list, revoke and rotate system access tokens, replace
a key client's public keys and the networks a client may authenticate from."""

from __future__ import annotations

from typing import IO

import click
from flask.cli import with_appcontext

from app.cli.output import domain_errors, emit, json_option, split_list
from app.services import client_credentials, client_queries
from app.services import clients as client_service
from app.services.actors import Actor

#: the largest key file read (a JWK Set of ten RSA-4096 keys is about 8 KiB)
MAX_KEY_FILE = 64 * 1024
JWKS_HELP = (
    "A JWK Set (JSON) or one PEM public key ('-': standard input): the client "
    "authenticates with private_key_jwt and has no secret."
)
ALLOW_FROM_HELP = (
    "Comma-separated CIDR ranges (IPv4 or IPv6) the client may authenticate from; empty: anywhere."
)


def _read_keys(jwks_file: IO[str]) -> str:
    text = jwks_file.read(MAX_KEY_FILE + 1)
    if len(text) > MAX_KEY_FILE:
        raise click.ClickException(f"the key file is over {MAX_KEY_FILE // 1024} KiB")
    return text


@click.group()
def clients() -> None:
    """OAuth clients (system access tokens)."""


@clients.command("create")
@click.option("--owner", required=True, help="Email of the user the token is for.")
@click.option("--name", required=True)
@click.option("--services", required=True, help="Comma-separated scopes, e.g. jobs,candidates.")
@click.option("--expires", required=True, help="Last valid day, YYYY-MM-DD (UTC).")
@click.option("--description", default="")
@click.option("--jwks", "jwks_file", type=click.File("r", encoding="utf-8"), help=JWKS_HELP)
@click.option("--allow-from", "allow_from", default="", help=ALLOW_FROM_HELP)
@json_option
@with_appcontext
@domain_errors
def create(
    owner: str,
    name: str,
    services: str,
    expires: str,
    description: str,
    jwks_file: IO[str] | None,
    allow_from: str,
    as_json: bool,
):
    """Generate a client; prints its id and secret (shown this once only), or with --jwks a
    key client, which has no secret."""
    issued = client_service.create_client(
        Actor.cli(),
        owner_email=owner,
        name=name,
        scopes=split_list(services),
        expires_on=expires,
        description=description,
        jwks=_read_keys(jwks_file) if jwks_file is not None else None,
        allowed_networks=split_list(allow_from),
    )
    client = issued.client
    record = {
        "client_id": client.client_id,
        "client_secret": issued.secret,
        "name": client.name,
        "scopes": client.scopes,
        "expires_on": client.expires_on.isoformat(),
        "token_endpoint_auth_method": client.token_endpoint_auth_method,
        "allowed_networks": client.networks,
    }
    emit(record, as_json, _created_text)


def _created_text(record: dict) -> str:
    summary = (
        f"name: {record['name']}  scopes: {' '.join(record['scopes'])}  "
        f"expires_on: {record['expires_on']}  "
        f"allowed from: {', '.join(record['allowed_networks']) or 'anywhere'}\n"
    )
    if record["client_secret"] is None:
        return (
            f"client_id: {record['client_id']}\n{summary}"
            "It authenticates with private_key_jwt (signed assertions): it has no secret."
        )
    return (
        f"client_id:     {record['client_id']}\n"
        f"client_secret: {record['client_secret']}\n{summary}"
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
        f"{','.join(r['scopes'])}\texpires {r['expires_on']}\t"
        f"last used {r['last_used_at'] or 'never'}"
        + (f" from {r['last_used_ip']}" if r["last_used_ip"] else "")
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


@clients.command("set-keys")
@click.argument("client_id")
@click.option(
    "--jwks", "jwks_file", type=click.File("r", encoding="utf-8"), required=True, help=JWKS_HELP
)
@json_option
@with_appcontext
@domain_errors
def set_keys(client_id: str, jwks_file: IO[str], as_json: bool) -> None:
    """Replace a key client's public keys; the old ones stop working within a second."""
    client = client_credentials.set_keys(Actor.cli(), client_id, _read_keys(jwks_file))
    record = client_queries.describe(client)
    kids = ", ".join(key["kid"] for key in record["jwks"]["keys"])
    emit(record, as_json, lambda r: f"client {r['client_id']} now accepts the keys {kids}")


@clients.command("set-networks")
@click.argument("client_id")
@click.option("--allow-from", "allow_from", required=True, help=ALLOW_FROM_HELP)
@json_option
@with_appcontext
@domain_errors
def set_networks(client_id: str, allow_from: str, as_json: bool) -> None:
    """Replace the networks a client may authenticate from ('' : anywhere)."""
    client = client_credentials.set_networks(Actor.cli(), client_id, split_list(allow_from))
    record = client_queries.describe(client)
    emit(
        record,
        as_json,
        lambda r: (
            f"client {r['client_id']} may authenticate from "
            + (", ".join(r["allowed_networks"]) or "anywhere")
        ),
    )

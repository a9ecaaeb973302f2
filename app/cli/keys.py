"""``gatehouse keys list|rotate``: the JWT signing keys."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from app.cli.output import domain_errors, emit, json_option
from app.services.runtime import runtime, settings
from app.services.signing_keys import KeyInfo


def _key(info: KeyInfo) -> dict:
    return {
        "kid": info.key.kid,
        "alg": info.key.alg,
        "state": info.state,
        "created_at": info.created_at.isoformat(),
        "retired_at": info.retired_at.isoformat() if info.retired_at else None,
        "published_until": info.published_until.isoformat() if info.published_until else None,
    }


def _line(record: dict) -> str:
    until = f"\tpublished until {record['published_until']}" if record["published_until"] else ""
    return f"{record['kid']}\t{record['alg']}\t{record['state']}{until}"


@click.group()
def keys() -> None:
    """JWT signing keys: the newest signs; retired ones stay published until their tokens expire."""


@keys.command("list")
@json_option
@with_appcontext
@domain_errors
def list_keys(as_json: bool) -> None:
    """List signing keys, oldest first."""
    records = [_key(info) for info in runtime().keys.infos()]
    emit(records, as_json, lambda rs: "\n".join(map(_line, rs)) or "no keys: run 'gatehouse init'")


@keys.command("rotate")
@click.option(
    "--alg",
    type=click.Choice(["RS256", "ES256", "EdDSA"]),
    default=None,
    help="Algorithm of the new key (default GATEHOUSE_SIGNING_ALG).",
)
@json_option
@with_appcontext
@domain_errors
def rotate(alg: str | None, as_json: bool) -> None:
    """Create a new signing key; it signs from now on."""
    store = runtime().keys
    store.create(alg or settings().signing_alg)
    record = _key(store.infos()[-1])
    emit(record, as_json, lambda r: f"new signing key {r['kid']} ({r['alg']})")

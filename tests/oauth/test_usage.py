"""Usage: every client authentication counts (when, from which address, with which secret),
written at most once a minute per client and worker; what that costs each request."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask
from sqlalchemy import event, select

from app.extensions import db
from app.models import Client
from app.services import clients
from app.services.actors import Actor
from tests.assertions import assertion, assertion_form, public_pem, session_key
from tests.conftest import ISSUER, Credentials, Factory
from tests.oauth.helpers import CC, access_token

ADDRESS = "192.0.2.44"


def row(app: Flask, client_id: str) -> Client:
    with app.app_context():
        return db.session.scalars(select(Client).where(Client.client_id == client_id)).one()


@contextmanager
def statements(app: Flask) -> Iterator[list[str]]:
    """The SQL statements the app sends while the block runs."""
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:
        seen.append(statement.split()[0].upper())

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_an_introspecting_resource_service_shows_as_used(app, http, factory: Factory):
    resource = factory.introspector()
    token = access_token(http, factory.client())
    assert row(app, resource.client_id).last_used_at is None
    answer = http.post(
        "/introspect",
        data={"token": token},
        headers=resource.basic,
        environ_base={"REMOTE_ADDR": ADDRESS},
    )
    assert answer.json["active"] is True
    used = row(app, resource.client_id)
    assert used.last_used_at is not None and used.last_used_ip == ADDRESS


def test_the_previous_secret_in_its_grace_period_is_told_apart(app, http, factory: Factory):
    old = factory.client()
    with app.app_context():
        issued = clients.rotate_secret(Actor.cli(), old.client_id, grace_seconds=3600)
    new = Credentials(old.client_id, issued.secret)
    access_token(http, new)
    assert row(app, old.client_id).previous_secret_last_used_at is None
    access_token(http, old)
    used = row(app, old.client_id)
    assert used.previous_secret_last_used_at is not None
    assert used.last_used_at >= used.previous_secret_last_used_at
    # a new rotation starts a new grace period: its previous secret is not used yet
    with app.app_context():
        clients.rotate_secret(Actor.cli(), old.client_id, grace_seconds=3600)
    assert row(app, old.client_id).previous_secret_last_used_at is None


def test_a_secret_clients_token_writes_nothing_once_warm(app, http, factory: Factory):
    """The hot path: after the first request (use recorded), no write at all, and no read
    per request (cached state is refreshed a few times a second at most)."""
    creds = factory.client(allowed_networks=["127.0.0.0/8"])
    with statements(app) as first:
        access_token(http, creds)
    assert "UPDATE" in first  # last_used_at and last_used_ip, once a minute
    started = time.monotonic()
    with statements(app) as later:
        for _ in range(20):
            access_token(http, creds)
    elapsed = time.monotonic() - started
    assert set(later) <= {"SELECT"}
    assert len(later) <= 2 + 4 * elapsed


def test_an_assertion_costs_one_insert(app, http, factory: Factory):
    """The price of private_key_jwt: its jti remembered (expired ones purged once a minute)."""
    key = session_key("ec")
    client_id = factory.client(jwks=public_pem(key)).client_id

    def token() -> None:
        value = assertion(client_id, key, "ES256", ISSUER)
        response = http.post("/token", data={**CC, **assertion_form(value)})
        assert response.status_code == 200, response.json

    token()  # warm: snapshot, first purge, use recorded
    with statements(app) as seen:
        for _ in range(3):
            token()
    assert seen == ["INSERT"] * 3

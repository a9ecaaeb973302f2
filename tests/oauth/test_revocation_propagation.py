"""How fast a revocation reaches other workers, and what it costs the database.

Workers of one instance share its instance folder: a change made by one is seen by
the very next request of another. Other instances sharing the database hear of it
through PostgreSQL's NOTIFY, and in any case within a quarter second from the change
log, even when the notification channel is down. Cached client state costs the
database a few reads a second per worker, not one per client.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import event, text

from app import create_app
from app.extensions import db
from app.services import change_listener, clients, days, users
from app.services.actors import Actor
from app.services.change_feed import CHECK_EVERY
from tests.conftest import Credentials
from tests.oauth.helpers import CC, access_token, assert_oauth_error, introspect, is_active, revoke


@pytest.fixture
def same_instance(config: dict[str, object], app: Flask) -> Iterator[Flask]:
    """Another worker of the same instance: same database, same instance folder."""
    other = create_app(config)
    yield other
    with other.app_context():
        db.session.remove()
        db.engine.dispose()


def _state(app: Flask):
    return app.extensions["gatehouse"]


def test_a_token_revoked_on_one_worker_is_inactive_on_the_next_request_of_another(
    same_instance, http, factory
):
    creds, spy = factory.client(), factory.introspector()
    token = access_token(http, creds)
    other = same_instance.test_client()
    assert is_active(other, token, spy)  # the other worker has the client cached
    assert revoke(http, token, creds).status_code == 200
    assert introspect(other, token, spy).json == {"active": False}  # no wait at all


def test_a_client_revoked_by_one_worker_is_refused_by_another_at_once(app, same_instance, factory):
    creds = factory.client()
    other = same_instance.test_client()
    assert other.post("/token", data=CC, headers=creds.basic).status_code == 200
    with app.app_context():
        clients.revoke_client(Actor.cli(), creds.client_id)
    assert_oauth_error(other.post("/token", data=CC, headers=creds.basic), 401, "invalid_client")


def test_a_rotated_secret_stops_working_on_every_worker_at_once(app, same_instance, factory):
    creds = factory.client()
    other = same_instance.test_client()
    assert other.post("/token", data=CC, headers=creds.basic).status_code == 200
    with app.app_context():
        rotated = clients.rotate_secret(Actor.cli(), creds.client_id)
    assert_oauth_error(other.post("/token", data=CC, headers=creds.basic), 401, "invalid_client")
    fresh = Credentials(creds.client_id, rotated.secret)
    assert other.post("/token", data=CC, headers=fresh.basic).status_code == 200


def _seconds_until_inactive(http, token: str, spy: Credentials, limit: float = 1.0) -> float:
    start = time.monotonic()
    while introspect(http, token, spy).json != {"active": False}:
        assert time.monotonic() - start < limit, f"still active after {limit} s"
        time.sleep(0.02)
    return time.monotonic() - start


@pytest.fixture
def instances(fresh_postgres, config: dict[str, object], tmp_path) -> Iterator[tuple[Flask, Flask]]:
    """Two instances on a PostgreSQL database of their own; the second one listens for
    changes as a served worker does."""
    url, _ = fresh_postgres
    first, second = (
        create_app(
            {**config, "GATEHOUSE_DATABASE_URL": url, "GATEHOUSE_INSTANCE_DIR": tmp_path / n}
        )
        for n in ("a", "b")
    )
    feed = _state(second).changes
    change_listener.listen(feed, url)
    yield first, second
    feed.closed.set()
    for instance in (first, second):
        with instance.app_context():
            db.session.remove()
            db.engine.dispose()


def _clients(app: Flask) -> tuple[Credentials, Credentials]:
    """A client holding jobs, and one holding introspect."""
    with app.app_context():
        users.create_user(Actor.cli(), "owner@example.com", "Owner", role="admin")
        worker, verifier = (
            clients.create_client(
                Actor.cli(),
                owner_email="owner@example.com",
                name=name,
                scopes=[scope],
                expires_on=days.today() + timedelta(days=1),
            )
            for name, scope in (("worker", "jobs"), ("verifier", "introspect"))
        )
        return _credentials(worker), _credentials(verifier)


def _credentials(issued) -> Credentials:
    return Credentials(issued.client.client_id, issued.secret)


def _listeners(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(text(LISTENERS.replace("pg_terminate_backend(pid)", "count(*)")))


def _wait_for_listener(app: Flask) -> None:
    deadline = time.monotonic() + 10
    while _listeners(app) == 0:
        assert time.monotonic() < deadline, "the listener never connected"
        time.sleep(0.05)


LISTENERS = (
    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
    "WHERE datname = current_database() AND query LIKE 'LISTEN gatehouse_changes%'"
)


def test_another_instance_hears_of_a_revocation_through_notify(instances):
    """With the quarter-second check turned off, only NOTIFY can tell the other instance."""
    first, second = instances
    creds, spy = _clients(first)
    token = access_token(first.test_client(), creds)
    other = second.test_client()
    assert is_active(other, token, spy)  # caches the client and starts the listener
    _state(second).changes.check_every = 3600
    _wait_for_listener(first)
    with first.app_context():
        clients.revoke_client(Actor.cli(), creds.client_id)
    _seconds_until_inactive(other, token, spy)


def test_a_lost_channel_still_gives_the_one_second_bound(instances):
    """Kill the LISTEN connection: the change log's check alone keeps the bound, and the
    listener comes back by itself."""
    first, second = instances
    creds, spy = _clients(first)
    token = access_token(first.test_client(), creds)
    other = second.test_client()
    assert is_active(other, token, spy)
    _wait_for_listener(first)
    with first.app_context():
        db.session.execute(text(LISTENERS))
        db.session.commit()
        clients.revoke_client(Actor.cli(), creds.client_id)
    _seconds_until_inactive(other, token, spy)
    _wait_for_listener(first)


@pytest.fixture
def roomy(config: dict[str, object]) -> None:
    config["GATEHOUSE_MAX_ACTIVE_CLIENTS"] = 1000


def test_cached_clients_cost_a_few_reads_a_second_not_one_per_client(roomy, second_app, factory):
    """200 clients served round-robin: after each is cached, the database sees only the
    change log's check, four times a second, however many clients there are."""
    many = [factory.client(name=f"busy {n}") for n in range(200)]
    other = second_app.test_client()
    for creds in many:  # cache every client (and write its once-a-minute last_used_at)
        assert other.post("/token", data=CC, headers=creds.basic).status_code == 200
    statements: list[str] = []
    with second_app.app_context():
        engine = db.engine
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        started = time.monotonic()
        for _ in range(3):
            for creds in many:
                assert other.post("/token", data=CC, headers=creds.basic).status_code == 200
        elapsed = time.monotonic() - started
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert len(statements) <= elapsed / CHECK_EVERY + 2, (len(statements), elapsed, statements[:5])


def test_purging_the_change_log_never_hides_a_later_change(app, second_app, http, factory):
    """Old rows are purged; ids must never be reused, or a worker past them would miss one."""
    creds, spy, earlier = factory.client(), factory.introspector(), factory.client()
    token = access_token(http, creds)
    other = second_app.test_client()
    assert is_active(other, token, spy)
    with app.app_context():
        for _ in range(3):  # a few changes the other instance reads past
            clients.rotate_secret(Actor.cli(), earlier.client_id)
    time.sleep(CHECK_EVERY + 0.05)
    assert is_active(other, token, spy)  # the other instance has read the log up to here
    with app.app_context():
        db.session.execute(text("DELETE FROM client_changes"))
        db.session.commit()
        clients.revoke_client(Actor.cli(), creds.client_id)
    _seconds_until_inactive(other, token, spy)

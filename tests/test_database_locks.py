"""A write lock held elsewhere: a clear 503 within a few seconds, and /token never waits.

The lock is real: another connection to the test database holds the write lock
(SQLite: ``BEGIN IMMEDIATE``; PostgreSQL: a table lock that lets reads through
and blocks writes), as a long ``gatehouse`` command or a stuck process would.
"""

from __future__ import annotations

import functools
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from sqlalchemy import select
from sqlalchemy.engine import make_url

from app.database import LOCK_WAIT_MS, _sqlite_pragmas
from app.extensions import db
from app.models import Client
from tests.helpers import at_once
from tests.oauth.helpers import CC, access_token

#: the busy timeout of request paths is a few seconds, far below the server's 30 s worker timeout
WITHIN = 6.0


@contextmanager
def write_lock(database_url: str, table: str) -> Iterator[None]:
    """Hold the database's write lock (SQLite) or ``table``'s (PostgreSQL) in the block."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        conn = sqlite3.connect(url.database, timeout=1, isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
    else:
        plain = url.set(drivername="postgresql").render_as_string(hide_password=False)
        conn = psycopg.connect(plain, connect_timeout=3)
        conn.execute(f"LOCK TABLE {table} IN EXCLUSIVE MODE")  # reads pass, writes wait
    try:
        yield
    finally:
        conn.rollback()
        conn.close()


def _last_used(app, client_id: str):
    with app.app_context():
        return db.session.scalar(select(Client.last_used_at).where(Client.client_id == client_id))


def test_a_held_write_lock_is_a_503_with_retry_after_within_seconds(
    app, http, factory, database_url
):
    creds = factory.client()
    token = access_token(http, creds)
    with write_lock(database_url, "revoked_tokens"):
        started = time.monotonic()
        response = http.post("/revoke", data={"token": token}, headers=creds.basic)
        elapsed = time.monotonic() - started
    assert response.status_code == 503, response.get_data(as_text=True)
    assert response.json["error"] == "temporarily_unavailable"
    assert int(response.headers["Retry-After"]) >= 1
    assert elapsed < WITHIN, f"answered after {elapsed:.1f} s"
    # once the lock is gone the same request succeeds
    assert http.post("/revoke", data={"token": token}, headers=creds.basic).status_code == 200


def test_token_never_waits_on_its_usage_write(app, http, factory, database_url):
    creds = factory.client()
    app.extensions["gatehouse"].usage.retry = 0  # retry the skipped write at the next use
    with write_lock(database_url, "clients"):
        started = time.monotonic()
        response = http.post("/token", data=CC, headers=creds.basic)
        response.close()  # the server is done with the request: after-response work has run
        elapsed = time.monotonic() - started
        assert response.status_code == 200, response.get_data(as_text=True)
        assert elapsed < 1.0, f"/token took {elapsed:.1f} s behind a held lock"
    assert _last_used(app, creds.client_id) is None  # skipped while the lock was held
    response = http.post("/token", data=CC, headers=creds.basic)
    response.close()
    assert response.status_code == 200
    assert _last_used(app, creds.client_id) is not None  # and written at the next use


def test_the_usage_write_happens_after_the_response(app, http, factory):
    creds = factory.client()
    # a response not yet sent: the server still holds it (the test client closes it when told)
    response = http.post("/token", data=CC, headers=creds.basic, buffered=False)
    assert response.status_code == 200
    assert _last_used(app, creds.client_id) is None  # not on the response path
    response.close()
    assert _last_used(app, creds.client_id) is not None


def _connect_as_the_app(path: Path) -> str:
    """A new connection with the app's per-connection settings; its journal mode."""
    conn = sqlite3.connect(path, timeout=LOCK_WAIT_MS / 1000)
    try:
        _sqlite_pragmas(conn, None)
        return conn.execute("PRAGMA journal_mode").fetchone()[0]
    finally:
        conn.close()


def test_workers_opening_a_new_sqlite_database_at_once_both_connect(tmp_path):
    """Each new connection switches the file to WAL, which does not wait on the busy
    timeout: two processes opening a new database at once both get a connection."""
    for round_ in range(100):
        connect = functools.partial(_connect_as_the_app, tmp_path / f"new-{round_}.db")
        outcomes = at_once(connect, connect)
        assert outcomes == ["wal", "wal"], outcomes

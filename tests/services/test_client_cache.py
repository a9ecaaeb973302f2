"""The hot-path client snapshots: an unknown client costs the same database work as a known one."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event

from app.extensions import db
from app.security.secrets import generate_secret
from app.services.change_feed import ChangeFeed, SharedCounter
from app.services.client_cache import ClientCache

UNKNOWN_ID = "U" * 24


@contextmanager
def statements() -> Iterator[list[str]]:
    """The SQL statements run inside the block."""
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def test_an_unknown_client_and_a_wrong_secret_cost_one_read_each(app, factory, tmp_path):
    """Timing must not tell which client ids exist: a known client's snapshot once cost a
    second query (its owner's services), about 0.3-0.5 ms more than an unknown id."""
    creds = factory.client()
    wrong = generate_secret()
    with app.app_context():
        changes = ChangeFeed(SharedCounter(tmp_path / "changes.counter"), check_every=3600)
        cache = ClientCache(changes)
        changes.sync()  # its first read of the change log, outside what is measured
        with statements() as unknown:
            assert cache.authenticate(UNKNOWN_ID, wrong) is None
        with statements() as known:
            assert cache.authenticate(creds.client_id, wrong) is None
        assert len(unknown) == len(known) == 1, (unknown, known)
        assert cache.authenticate(creds.client_id, creds.secret) is not None  # the control

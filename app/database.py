"""The database connection: engine options and per-connection settings.

SQLite: WAL, foreign keys and a busy timeout; the file is private (0600).
PostgreSQL: statement and lock timeouts and short pool and connect timeouts.

A write lock held elsewhere (a long command, a stuck process) is waited for at
most ``LOCK_WAIT_MS`` (SQLite's busy timeout, PostgreSQL's lock timeout): then
the request answers 503 with ``Retry-After`` (``app.http_errors``), long before
the server's 30-second worker timeout would kill the worker. A hung or
unreachable server becomes a 503 quickly too.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from sqlalchemy import event, make_url
from sqlalchemy.orm import Session

from app.config import Settings
from app.extensions import db, migrate
from app.instance import private_dir, private_sqlite, switch_to_wal

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
#: the longest a request waits for a lock held by another connection
LOCK_WAIT_MS = 3000


def init_database(app: Flask, settings: Settings) -> None:
    """Bind SQLAlchemy and Alembic (Flask-Migrate) to ``app``."""
    app.config.update(
        SQLALCHEMY_DATABASE_URI=settings.database_url,
        SQLALCHEMY_ENGINE_OPTIONS=_engine_options(settings.database_url),
    )
    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR))
    with app.app_context():
        if settings.database_url.startswith("sqlite"):
            private_dir(settings.instance_dir)
            if file := sqlite_file(settings.database_url):
                private_sqlite(file)
            event.listen(db.engine, "connect", _sqlite_pragmas)
        elif settings.database_url.startswith("postgresql"):
            event.listen(db.engine, "connect", _postgres_timeouts)


def sqlite_file(url: str) -> Path | None:
    """The database file of a ``sqlite:///`` URL (None for an in-memory database)."""
    name = make_url(url).database
    return (
        Path(name).absolute() if name and name != ":memory:" and "mode=memory" not in url else None
    )


def _engine_options(url: str) -> dict[str, object]:
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": LOCK_WAIT_MS / 1000}}
    return {
        "pool_pre_ping": True,
        "pool_size": 5,
        "max_overflow": 5,
        "pool_timeout": 5,
        "connect_args": {"connect_timeout": 3},
    }


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    switch_to_wal(dbapi_connection)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={LOCK_WAIT_MS}")
    cursor.close()


def _postgres_timeouts(dbapi_connection, _record) -> None:
    """A statement that hangs becomes an error (then a 503) instead of a stuck worker.

    Set per connection rather than through ``options`` in the connect arguments, which
    would replace any ``options`` (a ``search_path``, say) given in the database URL.
    """
    with dbapi_connection.cursor() as cursor:
        cursor.execute("SET statement_timeout = 10000")
        cursor.execute(f"SET lock_timeout = {LOCK_WAIT_MS}")
    dbapi_connection.commit()


def wait_for_locks(session: Session, wait: bool) -> None:
    """Whether the session's writes wait up to ``LOCK_WAIT_MS`` for a lock held elsewhere,
    or fail at once (an ``OperationalError``); inside a transaction.

    PostgreSQL resets ``SET LOCAL`` itself when the transaction ends; SQLite's busy
    timeout belongs to the connection, so whoever turns waiting off turns it back on
    before the connection returns to the pool.
    """
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql(f"PRAGMA busy_timeout = {LOCK_WAIT_MS if wait else 0}")
    elif not wait:
        connection.exec_driver_sql("SET LOCAL lock_timeout = 10")

"""Counts of failures per key and time window, kept where every worker that must share
them can reach them.

- ``RedisCounters``: every worker of every instance sharing the Redis
  (``GATEHOUSE_REDIS_URL``).
- ``FileCounters``: every worker of one instance, through a small SQLite file in
  the instance folder (``limits.db``), apart from the main database so that a
  flood of failures never takes the main database's write lock.
- ``MemoryCounters``: this process only; the last resort when the others fail.

``fallback(first, then)`` uses ``first`` and, while it fails (Redis down, the
file locked for too long), ``then``. Each store answers ``add`` (count one, and
return this window's count with the previous window's) in one round trip, so
the failure path pays one write; nothing here runs on a success.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from pathlib import Path
from typing import Protocol

from app import process
from app.instance import private_dir, private_sqlite, switch_to_wal

log = logging.getLogger(__name__)
#: how long a write to the instance file may wait for another worker's (seconds)
FILE_BUSY_TIMEOUT = 0.25
MAX_MEMORY_KEYS = 100_000


class Counters(Protocol):
    def add(self, name: str, key: str, window: int, length: int) -> tuple[int, int]:
        """Count one for ``key`` in ``window`` (windows last ``length`` s); return the counts
        of that window (this one included) and of the one before."""

    def get(self, name: str, key: str, window: int) -> tuple[int, int]:
        """The counts of ``window`` and of the one before."""

    def clear(self, name: str, key: str, window: int) -> None:
        """Forget ``key``'s counts in ``window`` and the one before."""


class MemoryCounters:
    def __init__(self) -> None:
        self._counts: dict[tuple[str, str, int], int] = {}
        self._lock = threading.Lock()

    def add(self, name: str, key: str, window: int, length: int) -> tuple[int, int]:
        with self._lock:
            if len(self._counts) >= MAX_MEMORY_KEYS:
                self._counts = {k: v for k, v in self._counts.items() if k[2] >= window - 1}
                if len(self._counts) >= MAX_MEMORY_KEYS:
                    self._counts.clear()
            count = self._counts[(name, key, window)] = self._counts.get((name, key, window), 0) + 1
            return count, self._counts.get((name, key, window - 1), 0)

    def get(self, name: str, key: str, window: int) -> tuple[int, int]:
        counts = self._counts
        return counts.get((name, key, window), 0), counts.get((name, key, window - 1), 0)

    def clear(self, name: str, key: str, window: int) -> None:
        with self._lock:
            self._counts.pop((name, key, window), None)
            self._counts.pop((name, key, window - 1), None)


class FileCounters:
    """Counts in a SQLite file shared by the instance's workers (one connection per process)."""

    SCHEMA = (
        "CREATE TABLE IF NOT EXISTS failures (name TEXT, key TEXT, window INTEGER,"
        " count INTEGER, expires REAL, PRIMARY KEY (name, key, window)) WITHOUT ROWID",
        "CREATE INDEX IF NOT EXISTS failures_expires ON failures (expires)",
    )
    PRUNE_EVERY = 60.0

    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn: sqlite3.Connection | None = None
        self._pid = 0
        self._pruned = 0.0
        self._lock = threading.Lock()

    def _connection(self) -> sqlite3.Connection:
        """This process's connection (a forked worker opens its own)."""
        if self._conn is None or self._pid != process.pid():
            private_dir(self.path.parent)
            private_sqlite(self.path)
            conn = sqlite3.connect(
                self.path, timeout=FILE_BUSY_TIMEOUT, isolation_level=None, check_same_thread=False
            )
            switch_to_wal(conn)  # a worker's first failure may meet another's on a new file
            conn.execute("PRAGMA synchronous=OFF")  # counts may be lost in a crash, never wrong
            for statement in self.SCHEMA:
                conn.execute(statement)
            self._conn, self._pid = conn, process.pid()
        return self._conn

    def add(self, name: str, key: str, window: int, length: int) -> tuple[int, int]:
        with self._lock:
            conn = self._connection()
            conn.execute("BEGIN IMMEDIATE")
            try:
                (count,) = conn.execute(
                    "INSERT INTO failures VALUES (?, ?, ?, 1, ?) ON CONFLICT DO UPDATE"
                    " SET count = count + 1 RETURNING count",
                    (name, key, window, (window + 2) * length),
                ).fetchone()
                previous = self._counts(conn, name, key, window)[1]
                self._prune(conn)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            return count, previous

    def get(self, name: str, key: str, window: int) -> tuple[int, int]:
        with self._lock:
            return self._counts(self._connection(), name, key, window)

    def clear(self, name: str, key: str, window: int) -> None:
        with self._lock:
            self._connection().execute(
                "DELETE FROM failures WHERE name = ? AND key = ? AND window IN (?, ?)",
                (name, key, window, window - 1),
            )

    @staticmethod
    def _counts(conn: sqlite3.Connection, name: str, key: str, window: int) -> tuple[int, int]:
        """The counts of ``window`` and of the one before, in one read."""
        rows = dict(
            conn.execute(
                "SELECT window, count FROM failures"
                " WHERE name = ? AND key = ? AND window IN (?, ?)",
                (name, key, window, window - 1),
            ).fetchall()
        )
        return rows.get(window, 0), rows.get(window - 1, 0)

    def _prune(self, conn: sqlite3.Connection) -> None:
        """Drop the counts no window can use any more (at most once a minute per process)."""
        now = time.time()
        if now - self._pruned >= self.PRUNE_EVERY:
            conn.execute("DELETE FROM failures WHERE expires < ?", (now,))
            self._pruned = now


class RedisCounters:
    """Counts in Redis, one key per name, key and window, expiring after two windows."""

    def __init__(self, url: str) -> None:
        import redis

        self._redis = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)

    @staticmethod
    def _key(name: str, key: str, window: int) -> str:
        return f"gatehouse:{name}:{key}:{window}"

    def add(self, name: str, key: str, window: int, length: int) -> tuple[int, int]:
        pipe = self._redis.pipeline(transaction=False)
        pipe.incr(self._key(name, key, window))
        pipe.expire(self._key(name, key, window), length * 2)
        pipe.get(self._key(name, key, window - 1))
        count, _, previous = pipe.execute()
        return int(count), int(previous or 0)

    def get(self, name: str, key: str, window: int) -> tuple[int, int]:
        current, previous = self._redis.mget(
            [self._key(name, key, window), self._key(name, key, window - 1)]
        )
        return int(current or 0), int(previous or 0)

    def clear(self, name: str, key: str, window: int) -> None:
        self._redis.delete(self._key(name, key, window), self._key(name, key, window - 1))


class Fallback:
    """``first`` while it answers, ``then`` while it fails (each failure is logged)."""

    def __init__(self, first: Counters, then: Counters) -> None:
        self.first, self.then = first, then

    def add(self, name: str, key: str, window: int, length: int) -> tuple[int, int]:
        try:
            return self.first.add(name, key, window, length)
        except Exception as exc:  # noqa: BLE001 - the store is down or busy: count elsewhere
            self._warn(exc)
            return self.then.add(name, key, window, length)

    def get(self, name: str, key: str, window: int) -> tuple[int, int]:
        try:
            return self.first.get(name, key, window)
        except Exception as exc:  # noqa: BLE001
            self._warn(exc)
            return self.then.get(name, key, window)

    def clear(self, name: str, key: str, window: int) -> None:
        try:
            self.first.clear(name, key, window)
        except Exception as exc:  # noqa: BLE001
            self._warn(exc)
        self.then.clear(name, key, window)

    def _warn(self, exc: Exception) -> None:
        log.warning(
            "failure counts: %s unreachable, counting in %s: %s",
            self._label(self.first),
            self._label(self.then),
            exc,
        )

    @staticmethod
    def _label(store: Counters) -> str:
        return type(store).__name__.removesuffix("Counters").lower() or "store"


def instance_counters(instance_dir: Path, redis_url: str | None) -> Counters:
    """Redis when configured, else the instance file; each falling back to the next."""
    local: Counters = Fallback(FileCounters(instance_dir / "limits.db"), MemoryCounters())
    return Fallback(RedisCounters(redis_url), local) if redis_url else local

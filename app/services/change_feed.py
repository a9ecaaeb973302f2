"""How a committed change reaches every worker's cached client state: the change log.

Every change to a client (revoked, rotated, edited, narrowed, its owner
deactivated) and every token denied through ``/revoke`` appends a row to
``client_changes`` in the transaction that makes it (``write``). A worker keeps
client snapshots long (``client_cache``), and before it uses cached state it
makes sure it has applied every committed change (``sync``), by reading the rows
after the last one it saw when any of these says there may be news:

- its instance's shared counter moved: a worker bumps it after committing a
  change (an 8-byte file in the instance folder, read through ``mmap``: about
  0.2 µs a request), so every worker of the instance sees the change on its very
  next request, with no window at all;
- on PostgreSQL, a ``NOTIFY`` sent by the committing transaction reached the
  listener thread every worker keeps (``change_listener``): other instances
  sharing the database learn of it within milliseconds;
- ``CHECK_EVERY`` passed since the last read, whatever the channels did: one
  indexed read per worker every quarter second, so a revocation is honoured
  everywhere within the one-second bound even when a notification is lost or
  the listener is down.

Instead of every worker re-reading every client it serves twice a second
(instances x workers x busy clients x 2 reads a second), the database serves
instances x workers x 4 reads a second, plus one read per change.
"""

from __future__ import annotations

import fcntl
import mmap
import os
import threading
import time
from collections.abc import Callable, Iterable
from datetime import timedelta
from pathlib import Path

from sqlalchemy import delete, func, select, text

from app import process
from app.extensions import db
from app.models import ClientChange
from app.models.types import utcnow

CHECK_EVERY = 0.25
#: changes older than this are purged (a worker that slept longer starts over)
RETAIN = timedelta(hours=1)
PAGE = 1000
CHANNEL = "gatehouse_changes"
#: any constant: the advisory lock that makes change ids visible in commit order (PostgreSQL)
LOCK_KEY = 0x6A7E_C4A6


class SharedCounter:
    """A number every worker of an instance can read for the price of a memory load."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._pid = -1
        self._map: mmap.mmap | None = None

    def _open(self) -> int:
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        return os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)

    def _mapped(self) -> mmap.mmap:
        if self._pid != process.pid():  # map again in each worker process
            self._map, self._pid = None, process.pid()
        if self._map is None:
            fd = self._open()
            try:
                if os.fstat(fd).st_size < 8:
                    os.pwrite(fd, bytes(8), 0)
                self._map = mmap.mmap(fd, 8, access=mmap.ACCESS_READ)
            finally:
                os.close(fd)
        return self._map

    def read(self) -> bytes:
        """The current value (compared, never interpreted: a torn read only costs a sync)."""
        return self._mapped()[:8]

    def bump(self) -> None:
        fd = self._open()
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            value = int.from_bytes(os.pread(fd, 8, 0).ljust(8, b"\0"), "little")
            os.pwrite(fd, ((value + 1) % 2**64).to_bytes(8, "little"), 0)
        finally:
            os.close(fd)  # also releases the lock


class ChangeFeed:
    """One worker's reader of the change log; tells its subscribers of each change it applies."""

    def __init__(self, counter: SharedCounter, check_every: float = CHECK_EVERY) -> None:
        self.counter = counter
        self.check_every = check_every
        self._on_client: list[Callable[[str], None]] = []
        self._on_jti: list[Callable[[str], None]] = []
        self._on_reset: list[Callable[[], None]] = []
        self._seen: int | None = None
        self._counter_seen = b""
        self._due = float("-inf")
        self._nudged = threading.Event()
        self._lock = threading.Lock()
        #: started by the first sync in each process (see ``change_listener``)
        self.start_listener: Callable[[ChangeFeed], None] | None = None
        self._listener_pid = -1
        #: set to stop the listener (an app being discarded, in tests)
        self.closed = threading.Event()

    def subscribe(
        self,
        *,
        client: Callable[[str], None] | None = None,
        jti: Callable[[str], None] | None = None,
        reset: Callable[[], None] | None = None,
    ) -> None:
        """Be called for each changed client, each denied jti, or when everything changed."""
        for handlers, handler in ((self._on_client, client), (self._on_jti, jti)):
            if handler is not None:
                handlers.append(handler)
        if reset is not None:
            self._on_reset.append(reset)

    def nudge(self) -> None:
        """Something changed (a notification arrived): read the log before the next use."""
        self._nudged.set()

    def sync(self) -> None:
        """Apply every change committed before now, if anything says there may be one."""
        if self._listener_pid != process.pid() and self.start_listener is not None:
            self._listener_pid = process.pid()
            self.start_listener(self)
        now = time.monotonic()
        counter = self.counter.read()
        if counter == self._counter_seen and now < self._due and not self._nudged.is_set():
            return
        with self._lock:
            self._nudged.clear()
            self._counter_seen, self._due = counter, now + self.check_every
            self._pull()

    def _pull(self) -> None:
        if self._seen is None:  # a new worker: its caches are empty, start from the newest
            self._seen = db.session.scalar(select(func.max(ClientChange.id))) or 0
            return
        rows = db.session.execute(
            select(ClientChange.id, ClientChange.client_id, ClientChange.jti)
            .where(ClientChange.id > self._seen)
            .order_by(ClientChange.id)
            .limit(PAGE)
        ).all()
        if len(rows) == PAGE:  # a flood of changes: dropping everything is cheaper
            for reset in self._on_reset:
                reset()
        else:
            for _, client_id, jti in rows:
                for forget in self._on_client if client_id else ():
                    forget(client_id)
                for deny in self._on_jti if jti else ():
                    deny(jti)
        if rows:
            self._seen = rows[-1][0]


def write(client_ids: Iterable[str], jtis: Iterable[str]) -> None:
    """Add the current transaction's changes to the log (its commit publishes them).

    On PostgreSQL the rows are written under an advisory lock held to the commit, so
    ids become visible in increasing order and a reader's ``id > seen`` skips none,
    and a NOTIFY (sent only if the transaction commits) wakes the listeners.
    """
    rows = [ClientChange(client_id=c) for c in sorted(set(client_ids))]
    rows += [ClientChange(jti=j) for j in sorted(set(jtis))]
    if not rows:
        return
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
        db.session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": CHANNEL})
    db.session.add_all(rows)
    db.session.execute(delete(ClientChange).where(ClientChange.at < utcnow() - RETAIN))

"""When and from where a client was last used: noted on the hot path, written after the response.

Every successful client authentication counts (``/token``, ``/introspect``, ``/revoke``,
``/revocations``), so a resource service that only introspects shows as used too. A
use of the previous secret during a rotation's grace period is noted on its own, so
``previous_secret_last_used_at`` tells the owner when it is safe to let it go.

Tokens are never stored, so these columns are the only write a secret client's
request can cause. Two rules keep that write off ``/token``:

- at most once a minute per client (and per secret) and worker: ``touch`` notes a
  use in memory (one lock and one dict lookup) and, once a minute, makes a write due;
- never on the response path, and never waiting: a due write runs once the server
  has sent the response (``after_response``), in a transaction that fails at once
  if another connection holds the lock (``transaction(wait=False)``). A write that
  met a lock is dropped, and the client's next use after ``retry`` seconds tries
  again with fresh values.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from contextvars import ContextVar

from flask import current_app
from sqlalchemy import update
from sqlalchemy.exc import OperationalError

from app.extensions import db
from app.models import Client
from app.models.types import utcnow
from app.services.transaction import transaction

log = logging.getLogger(__name__)
LAST_USED_EVERY = 60.0
#: after a write met a lock: seconds before the client's next use tries again
RETRY_AFTER_LOCKED = 5.0
MAX_REMEMBERED = 100_000


class UsageRecorder:
    """This worker's notes of client use, and the writes that are due."""

    def __init__(self, every: float = LAST_USED_EVERY, retry: float = RETRY_AFTER_LOCKED) -> None:
        self.every, self.retry = every, retry
        #: (client id, previous secret?) -> monotonic time at which its next write is due
        self._next: dict[tuple[str, bool], float] = {}
        #: client id -> column values of a due write not yet made
        self._due: dict[str, dict[str, object]] = {}
        self._lock = threading.Lock()

    def touch(self, client_id: str, address: str, previous_secret: bool = False) -> None:
        """Note a use of the client from ``address`` now (with its in-grace previous secret,
        if so); when a write is due, make it after the response."""
        key = (client_id, previous_secret)
        now = time.monotonic()
        with self._lock:
            if now < self._next.get(key, float("-inf")):
                return
            if len(self._next) > MAX_REMEMBERED:
                self._next.clear()
            self._next[key] = now + self.every
            moment = utcnow()
            values = self._due.setdefault(client_id, {})
            values.update(last_used_at=moment, last_used_ip=address[:64])
            if previous_secret:
                values["previous_secret_last_used_at"] = moment
        after_response(self.flush)

    def flush(self) -> None:
        """Write every due use, each without waiting for a lock held elsewhere."""
        with self._lock:
            due, self._due = self._due, {}
        for client_id, values in due.items():
            try:
                with transaction(wait=False):
                    db.session.execute(
                        update(Client).where(Client.client_id == client_id).values(**values)
                    )
            except OperationalError as exc:
                log.info("usage of %s not written (database busy): %s", client_id, exc.orig)
                with self._lock:
                    for key in ((client_id, False), (client_id, True)):
                        if key in self._next:
                            self._next[key] = time.monotonic() + self.retry


#: work waiting for a response sent outside Flask's request context (``deferring``)
_after_send: ContextVar[list[Callable[[], None]] | None] = ContextVar(
    "gatehouse_after_send", default=None
)


class deferring:  # lower case: used like a function, in a with statement
    """Within the block, ``after_response`` work is collected into the list it gives, for
    the caller to run once its response is sent (``app.instrumentation``, per request).

    A class rather than ``@contextmanager``, as ``app.logs.serving``: entered on every request.
    """

    __slots__ = ("pending", "_token")

    def __enter__(self) -> list[Callable[[], None]]:
        self.pending: list[Callable[[], None]] = []
        self._token = _after_send.set(self.pending)
        return self.pending

    def __exit__(self, *_exc: object) -> None:
        _after_send.reset(self._token)


def after_response(work: Callable[[], None]) -> None:
    """Run ``work`` in this app's context once the server has sent the response (WSGI
    ``close``), or at once outside a request."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]

    def run() -> None:
        with app.app_context():
            try:
                work()
            except Exception:  # noqa: BLE001 - the response is gone: log, never raise into the server
                log.exception("after-response work failed")

    pending = _after_send.get()
    if pending is None:
        run()
    else:
        pending.append(run)

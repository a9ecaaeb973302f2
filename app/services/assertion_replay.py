"""Replay protection for client assertions (RFC 7523 §3 item 7: a ``jti`` is used once).

Each accepted assertion's ``jti`` is remembered for its client until the assertion
expires (plus the clock leeway it was accepted with), in a store every worker of
every instance shares:

- the database by default: one INSERT into ``used_assertions``, whose primary key
  ``(client_id, jti)`` refuses the second use wherever it comes from; expired rows
  are deleted at most once a minute per worker, in the same transaction;
- Redis when ``GATEHOUSE_REDIS_URL`` is set: one ``SET key 1 NX EX ttl``. While
  Redis is unreachable the database takes over (logged), so assertions keep
  working; an assertion first used in Redis just before an outage could then be
  used once more in the database, until its ``exp`` (at most an hour).

This is the one write per assertion that ``private_key_jwt`` costs; a secret
client's ``/token`` never reaches this module.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime

from sqlalchemy import delete, insert

from app.errors import Conflict
from app.extensions import db
from app.models import UsedAssertion
from app.models.types import utcnow
from app.services.transaction import transaction

log = logging.getLogger(__name__)
#: seconds between two purges of expired rows by one worker
PURGE_EVERY = 60.0
#: one statement, built and compiled once: an ORM ``add`` (unit of work, flush) or a fresh
#: ``insert().values()`` each time costs several times the INSERT itself
_INSERT = insert(UsedAssertion.__table__)
#: one statement, built and compiled once: an ORM ``add`` (unit of work, flush) or a fresh
#: ``insert().values()`` each time costs several times the INSERT itself
_INSERT = insert(UsedAssertion.__table__)


class ReplayGuard:
    def __init__(self, redis_url: str | None = None, purge_every: float = PURGE_EVERY) -> None:
        self.purge_every = purge_every
        self._purged_at = float("-inf")
        self._lock = threading.Lock()
        self._redis = None
        if redis_url:
            import redis

            self._redis = redis.Redis.from_url(redis_url, socket_timeout=0.5)

    def first_use(self, client_id: str, jti: str, keep_until: int) -> bool:
        """Record ``jti`` for ``client_id`` until ``keep_until`` (Unix time); False if it was
        recorded before (a replay)."""
        if self._redis is not None:
            try:
                ttl = max(1, keep_until - int(time.time()))
                return bool(self._redis.set(f"gatehouse:jti:{client_id}:{jti}", 1, nx=True, ex=ttl))
            except Exception as exc:  # noqa: BLE001 - Redis down: the database takes over
                log.warning("replay store unreachable, using the database: %s", exc)
        return self._insert(client_id, jti, keep_until)

    def _insert(self, client_id: str, jti: str, keep_until: int) -> bool:
        expires_at = datetime.fromtimestamp(keep_until, UTC).replace(tzinfo=None)
        try:
            with transaction():
                if self._purge_due():
                    db.session.execute(
                        delete(UsedAssertion).where(UsedAssertion.expires_at < utcnow())
                    )
                # on the session's connection: the Session treats an INSERT into a mapped
                # table as an ORM bulk insert, which costs more than the INSERT itself
                db.session.connection().execute(
                    _INSERT, {"client_id": client_id, "jti": jti, "expires_at": expires_at}
                )
        except Conflict:
            return False  # the primary key: this jti was used before
        return True

    def _purge_due(self) -> bool:
        now = time.monotonic()
        with self._lock:
            if now - self._purged_at < self.purge_every:
                return False
            self._purged_at = now
            return True

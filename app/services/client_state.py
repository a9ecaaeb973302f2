"""The hot-path view of clients: immutable snapshots cached for half a second.

``/token`` and ``/introspect`` read a client's state from here, never from the
ORM directly: one indexed read per client per half second per worker, no
write per token. A revocation committed anywhere is therefore seen by every
worker of every instance within ``STATE_TTL`` (SPEC rule 6), and at once in
the process that made it (``forget``).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update

from app.extensions import db
from app.models import Client, RevokedToken
from app.models.types import utcnow
from app.security import secrets as client_secrets
from app.services.cache import TTLCache

STATE_TTL = 0.5
LAST_USED_EVERY = 60.0


@dataclass(frozen=True)
class ClientSnapshot:
    client_id: str
    secret_hash: str
    previous_secret_hash: str | None
    previous_valid_until: datetime | None
    scopes: tuple[str, ...]
    #: the first instant (naive UTC) at which the client is expired: midnight after expires_on
    valid_until: datetime
    revoked: bool
    not_before: datetime | None

    def is_active(self, now: datetime) -> bool:
        return not self.revoked and now < self.valid_until

    def check_secret(self, secret: str, now: datetime) -> bool:
        """One SHA-256 and a constant-time compare; the previous secret only within its grace."""
        if client_secrets.secret_matches(secret, self.secret_hash):
            return True
        grace = self.previous_valid_until
        return bool(
            grace
            and now < grace
            and client_secrets.secret_matches(secret, self.previous_secret_hash)
        )


def valid_until(client: Client) -> datetime:
    """Midnight (UTC) after ``expires_on``: the client is valid through that whole day."""
    return datetime.combine(client.expires_on, datetime.min.time()) + timedelta(days=1)


def _snapshot(client: Client) -> ClientSnapshot:
    return ClientSnapshot(
        client_id=client.client_id,
        secret_hash=client.secret_hash,
        previous_secret_hash=client.previous_secret_hash,
        previous_valid_until=client.previous_secret_valid_until,
        scopes=tuple(client.scopes),
        valid_until=valid_until(client),
        revoked=client.revoked_at is not None,
        not_before=client.not_before,
    )


def _load(client_id: str) -> ClientSnapshot | None:
    client = db.session.scalars(
        select(Client)
        .where(Client.client_id == client_id)
        .execution_options(populate_existing=True)
    ).first()
    return _snapshot(client) if client else None


class ClientState:
    """Per-process cache of client snapshots and of the jti denylist."""

    def __init__(self, ttl: float = STATE_TTL) -> None:
        self.ttl = ttl
        self._clients: TTLCache[str, ClientSnapshot | None] = TTLCache(ttl)
        self._denied: frozenset[str] = frozenset()
        self._denied_at = float("-inf")
        self._touched: dict[str, float] = {}
        self._lock = threading.Lock()

    def get(self, client_id: str) -> ClientSnapshot | None:
        """The client's current snapshot (at most ``ttl`` old), or None if unknown."""
        if not client_secrets.is_plausible_client_id(client_id):
            return None
        return self._clients.get(client_id, _load)

    def authenticate(self, client_id: str, secret: str) -> ClientSnapshot | None:
        """The active client these credentials belong to, or None (one answer for all failures)."""
        if not client_secrets.is_well_formed(secret):
            return None  # rejected without touching the database
        snapshot = self.get(client_id)
        now = utcnow()
        if (
            snapshot is None
            or not snapshot.is_active(now)
            or not snapshot.check_secret(secret, now)
        ):
            return None
        return snapshot

    def is_denied(self, jti: str) -> bool:
        """Whether this token was revoked on its own (``POST /revoke``)."""
        now = time.monotonic()
        if now - self._denied_at >= self.ttl:
            rows = db.session.scalars(
                select(RevokedToken.jti).where(RevokedToken.expires_at > utcnow())
            )
            self._denied, self._denied_at = frozenset(rows), now
        return jti in self._denied

    def forget(self, client_id: str) -> None:
        """Drop a client's snapshot after a change made by this process."""
        self._clients.forget(client_id)

    def deny(self, jti: str) -> None:
        """Add a jti to this process's denylist at once (the database has it already)."""
        self._denied = self._denied | {jti}

    def touch(self, client_id: str) -> None:
        """Record use: ``last_used_at`` is written at most once a minute per client and worker."""
        now = time.monotonic()
        with self._lock:
            if now - self._touched.get(client_id, float("-inf")) < LAST_USED_EVERY:
                return
            if len(self._touched) > 100_000:
                self._touched.clear()
            self._touched[client_id] = now
        db.session.execute(
            update(Client).where(Client.client_id == client_id).values(last_used_at=utcnow())
        )
        db.session.commit()

"""The ``jti`` denylist: access tokens revoked one by one (RFC 7009), per process.

Each worker holds the set of denied ``jti``s still unexpired. A new one arrives
through the change log (``change_feed``: at once in this instance, within a quarter
second anywhere); the set is also re-read whole every ``REFRESH`` seconds, which
drops expired entries (the list is small: a token stays on it only until it
would have expired anyway).
"""

from __future__ import annotations

import time

from sqlalchemy import select

from app.extensions import db
from app.models import RevokedToken
from app.models.types import utcnow
from app.services.change_feed import ChangeFeed

REFRESH = 60.0


class Denylist:
    def __init__(self, changes: ChangeFeed, refresh: float = REFRESH) -> None:
        self.refresh = refresh
        self._denied: frozenset[str] = frozenset()
        self._read_at = float("-inf")
        self._changes = changes
        changes.subscribe(jti=self.add, reset=self._expire)

    def _expire(self) -> None:
        self._read_at = float("-inf")

    def __contains__(self, jti: str) -> bool:
        """Whether this token was revoked on its own (``POST /revoke``)."""
        self._changes.sync()
        now = time.monotonic()
        if now - self._read_at >= self.refresh:
            rows = db.session.scalars(
                select(RevokedToken.jti).where(RevokedToken.expires_at > utcnow())
            )
            self._denied, self._read_at = frozenset(rows), now
        return jti in self._denied

    def add(self, jti: str) -> None:
        """Deny a jti in this process at once (the database has it already)."""
        self._denied = self._denied | {jti}

"""The ``jti`` denylist: access tokens revoked one by one (RFC 7009), per process.

Each worker holds the set of denied ``jti``s still unexpired, re-read whole at
most every ``ttl`` seconds (the list is small: a token stays on it only until
it would have expired anyway), so a revocation made by another worker or
instance is honoured within that bound, and at once by the worker that made it.
"""

from __future__ import annotations

import time

from sqlalchemy import select

from app.extensions import db
from app.models import RevokedToken
from app.models.types import utcnow

DENYLIST_TTL = 0.5


class Denylist:
    def __init__(self, ttl: float = DENYLIST_TTL) -> None:
        self.ttl = ttl
        self._denied: frozenset[str] = frozenset()
        self._read_at = float("-inf")

    def __contains__(self, jti: str) -> bool:
        """Whether this token was revoked on its own (``POST /revoke``)."""
        now = time.monotonic()
        if now - self._read_at >= self.ttl:
            rows = db.session.scalars(
                select(RevokedToken.jti).where(RevokedToken.expires_at > utcnow())
            )
            self._denied, self._read_at = frozenset(rows), now
        return jti in self._denied

    def add(self, jti: str) -> None:
        """Deny a jti in this process at once (the database has it already)."""
        self._denied = self._denied | {jti}

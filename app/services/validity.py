"""When a client is valid: the one home of "through the end of ``expires_on``, UTC".

A client is active until it is revoked or its ``expires_on`` day (UTC) has
ended: the day itself is valid, so a client expiring "on" 2027-06-30 works
until 2027-07-01T00:00:00Z. ``valid_until`` is that first invalid instant;
``status`` and ``active_clause`` (the same rule as SQL) are derived from it.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, and_

from app.models import Client


def valid_until(expires_on: date) -> datetime:
    """Midnight (naive UTC) after ``expires_on``: the first instant the client is expired."""
    return datetime.combine(expires_on, datetime.min.time()) + timedelta(days=1)


def status(revoked: bool, expires_on: date, now: datetime) -> str:
    """``revoked``, ``expired`` (at or past ``valid_until``) or ``active``."""
    if revoked:
        return "revoked"
    return "expired" if now >= valid_until(expires_on) else "active"


def active_clause(now: datetime) -> ColumnElement[bool]:
    """SQL for ``status(...) == "active"``: ``now < valid_until(expires_on)`` is
    ``expires_on >= now.date()``, which an index on ``expires_on`` can serve."""
    return and_(Client.revoked_at.is_(None), Client.expires_on >= now.date())

"""Clients about to expire, and the client counts ``/metrics`` reports.

Computed when asked (a scrape, the dashboard) from the clients table: two
counts and a short list, cheap at any realistic number of clients, and always
the truth of the database, whichever instance or worker answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from app.extensions import db
from app.models import Client
from app.models.types import utcnow
from app.services import validity

#: the window of the "expiring soon" gauge (the 7-day reminder's)
GAUGE_DAYS = 7


@dataclass(frozen=True)
class Expiring:
    client_id: str
    name: str
    owner_email: str
    expires_on: date
    #: 0 when it expires at the end of today (UTC)
    days_left: int


def _count(*conditions) -> int:
    return db.session.scalar(select(func.count()).select_from(Client).where(*conditions)) or 0


def counts(now: datetime | None = None) -> tuple[int, int]:
    """``(active clients, active clients whose last valid day is within 7 days)``."""
    now = now or utcnow()
    active = validity.active_clause(now)
    soon = Client.expires_on <= now.date() + timedelta(days=GAUGE_DAYS)
    found = _count(active), _count(active, soon)
    db.session.rollback()  # end the read: nothing stays open between requests
    return found


def gauges(now: datetime | None = None) -> dict[str, tuple[str, float]]:
    """``/metrics`` gauges, ``{name: (help, value)}``; none while the database is down (the
    counters are still worth a scrape then, and ``/readyz`` says what is wrong)."""
    try:
        active, soon = counts(now)
    except SQLAlchemyError:
        db.session.rollback()
        return {}
    return {
        "gatehouse_active_clients": ("Clients that are neither revoked nor expired.", active),
        "gatehouse_clients_expiring_within_7_days": (
            "Active clients whose last valid day (UTC) is within the next 7 days.",
            soon,
        ),
    }


def expiring_within(days: int, now: datetime | None = None, limit: int = 100) -> list[Expiring]:
    """Active clients whose last valid day is within ``days`` days, soonest first."""
    now = now or utcnow()
    today = now.date()
    rows = db.session.scalars(
        select(Client)
        .where(validity.active_clause(now), Client.expires_on <= today + timedelta(days=days))
        .order_by(Client.expires_on, Client.name)
        .limit(limit)
    )
    return [
        Expiring(c.client_id, c.name, c.owner.email, c.expires_on, (c.expires_on - today).days)
        for c in rows
    ]

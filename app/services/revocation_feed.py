"""The revocation feed (``GET /revocations``): events for offline verifiers, in commit order.

The cursor is the event id. For a reader never to skip an event, ids must
become visible in increasing order: on PostgreSQL two transactions could
otherwise take ids 5 and 6 and commit 6 first, and a reader at cursor 6 would
never see 5. Writers therefore take a transaction-scoped advisory lock before
taking an id (revocations are rare; SQLite serialises writers anyway).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, text

from app.extensions import db
from app.models import RevocationEvent
from app.models.types import epoch_seconds, utcnow
from app.services.runtime import settings

PAGE = 1000
#: any constant: the advisory lock that orders revocation events (PostgreSQL)
LOCK_KEY = 0x6A7E_F33D


def add_event(
    type: str,
    client_id: str,
    *,
    jti: str | None = None,
    not_before: datetime | None = None,
    scope: str | None = None,
) -> RevocationEvent:
    """Add an event to the caller's transaction; the caller's commit publishes it.

    A client event without ``not_before`` revokes the client; with it, it narrows the
    client's scopes to ``scope``: tokens issued before ``not_before`` are dead, and so
    are tokens issued just after it that still carry a removed scope.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
    event = RevocationEvent(
        type=type,
        client_id=client_id,
        jti=jti,
        revoked_at=utcnow(),
        not_before=not_before,
        scope=scope,
    )
    db.session.add(event)
    return event


def events_since(since: int | None) -> dict[str, Any]:
    """Events after ``since``, or (without it) all that can still matter, and the next cursor."""
    latest = db.session.scalar(select(func.max(RevocationEvent.id))) or 0  # read first: see below
    query = select(RevocationEvent).order_by(RevocationEvent.id).limit(PAGE)
    if since is None:
        horizon = utcnow() - timedelta(seconds=settings().token_ttl)
        query = query.where(RevocationEvent.revoked_at > horizon)
    else:
        query = query.where(RevocationEvent.id > since)
    events = list(db.session.scalars(query))
    # with no event to show, continue from what existed *before* the query (an event
    # committed meanwhile has a larger id and comes next time)
    cursor = events[-1].id if events else (since if since is not None else latest)
    return {"events": [_describe(e) for e in events], "cursor": str(cursor)}


def _describe(event: RevocationEvent) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": event.type,
        "client_id": event.client_id,
        "revoked_at": epoch_seconds(event.revoked_at),
    }
    if event.jti:
        body["jti"] = event.jti
    if event.not_before:
        body["not_before"] = epoch_seconds(event.not_before)
    if event.scope is not None:
        body["scope"] = event.scope
    return body

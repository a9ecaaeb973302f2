"""Audit entries, added to the caller's transaction (committed with the change)."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select

from app.extensions import db
from app.models import AuditEvent, Client
from app.services.actors import Actor
from app.services.days import parse_day
from app.services.paging import Page, paginate


def record(actor: Actor, action: str, target: str | None, **details: Any) -> AuditEvent:
    """Add one audit entry to the session; the caller's commit writes it with the change."""
    event = AuditEvent(
        actor=actor.label, action=action, target=target, address=actor.address, details=details
    )
    db.session.add(event)
    return event


# -- reading (console, issue 3) -------------------------------------------------
def _day(value: str | date | None, field: str) -> date | None:
    if value is None or isinstance(value, date) or not value.strip():
        return value or None
    return parse_day(value, field)


def _visible_to(actor: Actor) -> ColumnElement[bool] | None:
    """Members see their own actions and what was done to their clients or account.

    Their own actions are those under their email and, when a ``manage`` client acts
    for them, under that client's label too.
    """
    if actor.is_admin:
        return None
    if actor.user is None:
        return AuditEvent.actor == actor.label
    own_clients = select(Client.client_id).where(Client.owner_id == actor.user.id)
    return or_(
        AuditEvent.actor.in_({actor.label, actor.user.email}),
        AuditEvent.target == actor.user.email,
        AuditEvent.target.in_(own_clients),
    )


def list_events(
    actor: Actor,
    *,
    by: str | None = None,
    target: str | None = None,
    since: str | date | None = None,
    until: str | date | None = None,
    page: int = 1,
    per_page: int = 50,
    clamp: bool = True,
) -> Page[AuditEvent]:
    """Audit entries the actor may read, newest first; ``by``/``target`` match case-insensitively
    anywhere in the field, ``since``/``until`` are inclusive UTC days."""
    first, last = _day(since, "since"), _day(until, "until")
    query = select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    visible = _visible_to(actor)
    if visible is not None:
        query = query.where(visible)
    if by and by.strip():
        query = query.where(
            func.lower(AuditEvent.actor).contains(by.strip().lower(), autoescape=True)
        )
    if target and target.strip():
        query = query.where(
            func.lower(AuditEvent.target).contains(target.strip().lower(), autoescape=True)
        )
    if first is not None:
        query = query.where(AuditEvent.at >= datetime.combine(first, time.min))
    if last is not None:
        query = query.where(AuditEvent.at <= datetime.combine(last, time.max))
    return paginate(query, page, per_page, clamp)

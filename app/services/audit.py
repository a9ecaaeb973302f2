"""Audit entries, added to the caller's transaction (committed with the change)."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select

from app.extensions import db
from app.models import AuditEvent, Client, User
from app.services.actors import Actor
from app.services.days import parse_day
from app.services.paging import Page, paginate
from app.services.transaction import transaction


def record(actor: Actor, action: str, target: str | None, **details: Any) -> AuditEvent:
    """Add one audit entry to the session; the caller's commit writes it with the change."""
    event = AuditEvent(
        actor=actor.label, action=action, target=target, address=actor.address, details=details
    )
    db.session.add(event)
    return event


# -- refused console sign-ins ----------------------------------------------------------
SIGN_IN_FAILED = "user.sign_in_failed"
#: the actor of an entry about someone not signed in
ANONYMOUS = "anonymous"
EMAIL_MAX = 254


def sign_in_failed(email_as_typed: str, address: str | None, *, locked: bool = False) -> None:
    """Write a refused console sign-in to the audit log, in its own transaction.

    The entry names the address, the email as typed and why: ``unknown_email``,
    ``deactivated``, ``no_password``, ``wrong_password``, or ``locked`` (refused, without
    checking the password, after too many failures). Never the password. The person
    signing in is told none of this.
    """
    typed = email_as_typed[:EMAIL_MAX]
    email = typed.strip().lower()
    reason = "locked" if locked else _sign_in_reason(email)
    with transaction():
        record(
            Actor(label=ANONYMOUS, user=None, is_admin=False, address=address),
            SIGN_IN_FAILED,
            email or None,
            email=typed,
            reason=reason,
        )


def count_since(action: str, since: datetime) -> int:
    """How many entries of ``action`` were written since ``since``."""
    query = select(func.count()).where(AuditEvent.action == action, AuditEvent.at >= since)
    return db.session.scalar(query) or 0


def _sign_in_reason(email: str) -> str:
    user = db.session.scalars(select(User).where(User.email == email)).first()
    if user is None:
        return "unknown_email"
    if not user.active:
        return "deactivated"
    return "no_password" if user.password_hash is None else "wrong_password"


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

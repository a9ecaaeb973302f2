"""The mail outbox: notifications queued in the same transaction as the change.

``queue_client_event`` adds rows to the session and never commits: the caller's
commit writes them with the change, so a client is never created, revoked or
rotated without its email, and an email is never queued for a change that was
rolled back. ``queue_expiry_reminders`` is run by the worker. Delivery (claiming,
retries) lives in ``app.services.outbox_delivery``.

Bodies are rendered from ``templates/mail/`` (text, and HTML with autoescaping).
They never hold a secret: nothing here ever sees one, only the client's row.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from flask import render_template
from sqlalchemy import and_, select

from app.errors import Conflict
from app.extensions import db
from app.models import Client, ClientReminder, OutboxMessage, Service, User
from app.models.outbox import REMINDER_KINDS
from app.models.types import utcnow
from app.services.actors import Actor
from app.services.catalogue import SYSTEM_SCOPES
from app.services.runtime import settings
from app.services.transaction import transaction

EVENTS = (
    "created",
    "revoked",
    "revoked_exposed",
    "secret_rotated",
    "keys_replaced",
    "networks_changed",
    "network_refused",
)
SUBJECTS = {
    "created": "Gatehouse: token '{name}' created",
    "revoked": "Gatehouse: token '{name}' revoked",
    "revoked_exposed": "Gatehouse: token '{name}' revoked: its secret was reported as exposed",
    "secret_rotated": "Gatehouse: token '{name}' secret rotated",
    "keys_replaced": "Gatehouse: token '{name}' keys replaced",
    "networks_changed": "Gatehouse: token '{name}' allowed networks changed",
    "network_refused": "Gatehouse: token '{name}' refused from an address outside its networks",
    "expires_in_7_days": "Gatehouse: token '{name}' expires {due} ({expires_on})",
    "expired": "Gatehouse: token '{name}' expired ({expires_on})",
}
#: the audit-style name of the actor of calendar reminders
SYSTEM_ACTOR = "gatehouse"
#: an "expired" reminder is still queued this many days late (a worker that was down
#: over the expiry catches up), but not later: starting a worker on an old database
#: does not mail about tokens that expired long ago
EXPIRED_CATCH_UP_DAYS = 7
#: the early reminder goes this many days before ``expires_on``
REMINDER_DAYS = 7


def queue_client_event(
    client: Client, event: str, actor: Actor, now: datetime | None = None, **details: Any
) -> list[OutboxMessage]:
    """Queue the notification about ``event`` for the client's owner (and its creator);
    ``details`` (an address, key ids …) are for the message's text."""
    if event not in EVENTS:
        raise ValueError(f"unknown client event {event!r}")
    return _queue(client, event, actor.label, now or utcnow(), details)


def queue_expiry_reminders(now: datetime | None = None) -> int:
    """Queue the due expiry reminders, once per client and kind; returns how many clients.

    ``expires_in_7_days`` goes on the day ``expires_on`` is 7 days ahead, or on the first
    run after it while the client is still valid (no worker ran that day; the subject
    then says how many days are left), but only to clients that existed on that day: a
    client created 3 days before its expiry was told its expiry at creation. ``expired``
    goes on the first run after the client really expired, i.e. from the day after
    ``expires_on`` (a client is valid through the end of that day), so
    the subject is true when it arrives. Revoked clients get no reminders: their
    owners were told of the revocation. Safe to run any number of times from any
    number of workers: see ``queue_reminder``.
    """
    now = now or utcnow()
    today = now.date()
    due = {
        "expires_in_7_days": and_(
            Client.expires_on >= today,
            Client.expires_on <= today + timedelta(days=REMINDER_DAYS),
        ),
        "expired": and_(
            Client.expires_on < today,
            Client.expires_on >= today - timedelta(days=EXPIRED_CATCH_UP_DAYS),
        ),
    }
    queued = 0
    for kind, condition in due.items():
        done = select(ClientReminder.client_id).where(ClientReminder.kind == kind)
        candidates = [
            client_id
            for client_id, created_at, expires_on in db.session.execute(
                select(Client.client_id, Client.created_at, Client.expires_on)
                .where(condition, Client.revoked_at.is_(None), Client.client_id.not_in(done))
                .order_by(Client.id)
            )
            if kind != "expires_in_7_days"
            or created_at.date() <= expires_on - timedelta(days=REMINDER_DAYS)
        ]
        queued += sum(queue_reminder(client_id, kind, now) for client_id in candidates)
    return queued


def queue_reminder(client_id: str, kind: str, now: datetime | None = None) -> bool:
    """Queue one reminder in its own transaction; False if it was already queued.

    The ``client_reminders`` primary key ``(client_id, kind)`` is the guard: when
    two workers race, the second insert fails (PostgreSQL waits for the first
    transaction, then reports the duplicate; SQLite serialises writers), this
    transaction rolls back whole (a ``Conflict``), and the caller goes on with the
    next client.
    """
    if kind not in REMINDER_KINDS:
        raise ValueError(f"unknown reminder kind {kind!r}")
    now = now or utcnow()
    try:
        with transaction():
            client = db.session.scalars(select(Client).where(Client.client_id == client_id)).one()
            db.session.add(ClientReminder(client_id=client_id, kind=kind, queued_at=now))
            db.session.flush()
            _queue(client, kind, SYSTEM_ACTOR, now)
    except Conflict:
        return False
    return True


# -- rendering ----------------------------------------------------------------
def _queue(
    client: Client, kind: str, actor: str, now: datetime, details: dict[str, Any] | None = None
) -> list[OutboxMessage]:
    base = _context(client, kind, actor, now) | {"details": details or {}}
    subject = SUBJECTS[kind].format(
        name=client.name, expires_on=base["expires_on"], due=base["due"]
    )
    messages = []
    for user, for_creator in _recipients(client):
        context = base | {"subject": subject, "for_creator": for_creator}
        message = OutboxMessage(
            kind=kind,
            client_id=client.client_id,
            recipient=user.email,
            subject=subject,
            text_body=render_template("mail/client_event.txt", **context),
            html_body=render_template("mail/client_event.html", **context),
            status="queued",
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
        db.session.add(message)
        messages.append(message)
    return messages


def _recipients(client: Client) -> list[tuple[User, bool]]:
    """The owner, and the creator if another person: ``(user, is_the_creator)``."""
    found = [(client.owner, False)]
    if client.created_by_id is not None and client.created_by_id != client.owner_id:
        creator = db.session.get(User, client.created_by_id)
        if creator is not None:
            found.append((creator, True))
    return found


def _context(client: Client, kind: str, actor: str, now: datetime) -> dict[str, Any]:
    return {
        "kind": kind,
        "name": client.name,
        "client_id": client.client_id,
        "owner_name": client.owner.name,
        "owner_email": client.owner.email,
        "services": _services(client.scopes),
        "expires_on": client.expires_on.isoformat(),
        "due": _due(client.expires_on, now),
        "key_client": client.jwks is not None,
        "networks": client.networks,
        "actor": actor,
        "when": now.strftime("%Y-%m-%d %H:%M UTC"),
        "link": f"{settings().issuer}/tokens/{client.client_id}",
    }


def _due(expires_on: date, now: datetime) -> str:
    """When a client expires, as a subject says it: ``in 7 days``, ``tomorrow``, ``today``
    (the client works through the end of ``expires_on``, UTC)."""
    days = (expires_on - now.date()).days
    return {0: "today", 1: "tomorrow"}.get(days, f"in {days} days")


def _services(scopes: list[str]) -> list[dict[str, str]]:
    """Each scope with its catalogue name (system scopes are named as such)."""
    rows = db.session.execute(select(Service.key, Service.name).where(Service.key.in_(scopes)))
    names = {key: name for key, name in rows}
    return [
        {"key": key, "name": names.get(key) or ("system scope" if key in SYSTEM_SCOPES else key)}
        for key in scopes
    ]

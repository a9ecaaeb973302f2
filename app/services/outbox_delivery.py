"""Delivery bookkeeping for the outbox: claim due messages, record the outcome, retry.

Several workers may run at once (processes, hosts). Each message is claimed by
one atomic ``UPDATE … WHERE id = ? AND status = 'queued' AND <not claimed>``,
committed on its own; the worker whose update changed a row (rowcount 1) owns
the message. On PostgreSQL the second updater waits for the row lock, then sees
the first one's claim and changes nothing; SQLite serialises writers. The claim
is a lease (``claimed_until``): if a worker dies, the message is taken over once
the lease lapses, so a crash delays mail instead of losing it.

Delivery is at least once: a worker that dies after the server accepted a message
but before recording it leaves ``sending_since`` set, and the next worker sends it
again. The repeat is harmless (the same ``Message-ID``, so mail clients fold the
copies) and visible: every attempt is counted when it starts, and the interrupted
one is written in ``last_error`` (``gatehouse mail list``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, or_, select, update

from app.errors import Conflict, InvalidInput, NotFound
from app.extensions import db
from app.models import OutboxMessage
from app.models.outbox import STATUSES
from app.models.types import utcnow
from app.services import audit
from app.services.actors import Actor
from app.services.transaction import transaction

#: how long a claim holds: far above a batch of sends at the transport's timeout
LEASE = timedelta(minutes=10)
#: retry delays: 30 s, 1 min, 2 min, … doubling, capped at an hour
BACKOFF_BASE_SECONDS = 30
BACKOFF_CAP_SECONDS = 3600
#: transient failures are retried this many times (about five days at the cap,
#: like an MTA's queue lifetime); then the message is ``failed`` until ``mail retry``
MAX_ATTEMPTS = 125
ERROR_MAX = 1000


@dataclass(frozen=True)
class Outgoing:
    """A claimed message, detached from the session: what a transport needs."""

    id: int
    kind: str
    client_id: str | None
    recipient: str
    subject: str
    text_body: str
    html_body: str
    created_at: datetime
    attempts: int


def backoff(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed attempt: 30 s * 2^(attempts-1), capped."""
    exponent = min(max(attempts - 1, 0), 20)
    return timedelta(seconds=min(BACKOFF_BASE_SECONDS * 2**exponent, BACKOFF_CAP_SECONDS))


def _due(now: datetime) -> ColumnElement[bool]:
    return and_(
        OutboxMessage.status == "queued",
        OutboxMessage.next_attempt_at <= now,
        or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),
    )


def claim_due(worker: str, now: datetime | None = None, limit: int = 20) -> list[Outgoing]:
    """Claim up to ``limit`` due messages for ``worker``; none is ever claimed by two."""
    now = now or utcnow()
    claimed: list[int] = []
    for _ in range(5):  # when another worker took every candidate, look again
        with transaction():
            candidates = list(
                db.session.scalars(
                    select(OutboxMessage.id)
                    .where(_due(now))
                    .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
                    .limit(limit - len(claimed))
                )
            )
        if not candidates:
            break
        for message_id in candidates:
            if _claim(message_id, worker, now):
                claimed.append(message_id)
        if claimed:
            break
    if not claimed:
        return []
    with transaction():
        rows = db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.id.in_(claimed)).order_by(OutboxMessage.id)
        )
        return [_detach(row) for row in rows]


def _claim(message_id: int, worker: str, now: datetime) -> bool:
    with transaction():
        result = db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id, _due(now))
            .values(claimed_by=worker, claimed_until=now + LEASE)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 1:
            _note_interrupted(message_id)
    return result.rowcount == 1


def _note_interrupted(message_id: int) -> None:
    """A claimed message still marked as being sent: its last attempt never reported back."""
    message = db.session.get(OutboxMessage, message_id)
    if message is not None and message.sending_since is not None:
        message.last_error = (
            f"attempt {message.attempts} was interrupted (the worker stopped while sending, "
            f"{_iso(message.sending_since)}): it may have been delivered; a repeat carries "
            "the same Message-ID"
        )
        message.sending_since = None


def start_attempt(message_id: int, now: datetime | None = None) -> None:
    """Count an attempt before sending: one a crash interrupts is counted too."""
    now = now or utcnow()
    with transaction():
        db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id)
            .values(attempts=OutboxMessage.attempts + 1, sending_since=now)
            .execution_options(synchronize_session=False)
        )


def _detach(row: OutboxMessage) -> Outgoing:
    return Outgoing(
        id=row.id,
        kind=row.kind,
        client_id=row.client_id,
        recipient=row.recipient,
        subject=row.subject,
        text_body=row.text_body,
        html_body=row.html_body,
        created_at=row.created_at,
        attempts=row.attempts,
    )


def _counted() -> ColumnElement[int]:
    """``attempts``, plus this one unless ``start_attempt`` already counted it."""
    return case(
        (OutboxMessage.sending_since.is_(None), OutboxMessage.attempts + 1),
        else_=OutboxMessage.attempts,
    )


def mark_sent(message_id: int, now: datetime | None = None, via: str = "smtp") -> None:
    """Record a delivery over ``via`` (``smtp``, or ``file``: an ``.eml`` written); the last
    error, if any, is kept as history."""
    now = now or utcnow()
    with transaction():
        db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id, OutboxMessage.status == "queued")
            .values(
                status="sent",
                sent_at=now,
                delivered_via=via,
                attempts=_counted(),
                sending_since=None,
                claimed_by=None,
                claimed_until=None,
            )
            .execution_options(synchronize_session=False)
        )


def mark_failed(
    message_id: int, error: str, now: datetime | None = None, *, permanent: bool = False
) -> OutboxMessage:
    """Record a failed attempt: retry after the backoff, or give up (``failed``)."""
    now = now or utcnow()
    with transaction():
        message = db.session.get(OutboxMessage, message_id, with_for_update=True)
        if message is None:
            raise NotFound(f"no message {message_id}")
        if message.sending_since is None:  # not counted by ``start_attempt``
            message.attempts += 1
        message.last_error = error[:ERROR_MAX]
        message.claimed_by = message.claimed_until = message.sending_since = None
        if permanent or message.attempts >= MAX_ATTEMPTS:
            message.status = "failed"
        else:
            message.next_attempt_at = now + backoff(message.attempts)
    return message


def list_messages(
    status: str | None = None, client_id: str | None = None, limit: int = 100
) -> list[OutboxMessage]:
    """Messages, newest first, optionally of one status or about one client."""
    if status is not None and status not in STATUSES:
        raise InvalidInput("status must be queued, sent or failed", {"status": "invalid"})
    query = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
    if status is not None:
        query = query.where(OutboxMessage.status == status)
    if client_id is not None:
        query = query.where(OutboxMessage.client_id == client_id)
    return list(db.session.scalars(query))


def retry_message(actor: Actor, message_id: int, now: datetime | None = None) -> OutboxMessage:
    """Queue a failed (or waiting) message for the next worker pass, with fresh attempts."""
    now = now or utcnow()
    with transaction():
        message = db.session.get(OutboxMessage, message_id)
        if message is None:
            raise NotFound(f"no message {message_id}")
        if message.status == "sent":
            raise Conflict(f"message {message_id} was already sent at {_iso(message.sent_at)}")
        message.status, message.attempts, message.next_attempt_at = "queued", 0, now
        message.claimed_by = message.claimed_until = message.sending_since = None
        audit.record(actor, "mail.retry", message.client_id, message=message_id)
    return message


def describe(message: OutboxMessage) -> dict[str, Any]:
    """A message as the CLI prints it (no bodies)."""
    return {
        "id": message.id,
        "kind": message.kind,
        "client_id": message.client_id,
        "recipient": message.recipient,
        "subject": message.subject,
        "status": message.status,
        "attempts": message.attempts,
        "delivered_via": message.delivered_via,
        "next_attempt_at": _iso(message.next_attempt_at) if message.status == "queued" else None,
        "last_error": message.last_error,
        "created_at": _iso(message.created_at),
        "sent_at": _iso(message.sent_at),
    }


def _iso(moment: datetime | None) -> str | None:
    return moment.replace(microsecond=0).isoformat() + "Z" if moment else None


def release(message_ids: list[int]) -> None:
    """Give back claimed messages not attempted (a worker stopping mid-batch)."""
    if not message_ids:
        return
    with transaction():
        db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(message_ids), OutboxMessage.status == "queued")
            .values(claimed_by=None, claimed_until=None)
            .execution_options(synchronize_session=False)
        )

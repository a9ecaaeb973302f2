"""The mail outbox: emails queued in the same transaction as the change.

A worker delivers them later; a row is never deleted, so an SMTP outage delays
mail but never loses it. ``ClientReminder`` is the proof that an expiry reminder
was queued: its primary key ``(client_id, kind)`` makes "never twice" a
database guarantee, whatever the number of runs or workers.
"""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import utcnow

#: what a message is about; the first three follow a change, the last two the calendar
REMINDER_KINDS = ("expires_in_7_days", "expired")
STATUSES = ("queued", "sent", "failed")


class OutboxMessage(db.Model):
    """One email to one recipient."""

    __tablename__ = "outbox_messages"
    __table_args__ = (
        # the worker's "what is due" query
        Index("ix_outbox_messages_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    #: the client the message is about (its public id)
    client_id: Mapped[str | None] = mapped_column(
        String(64), ForeignKey("clients.client_id"), index=True
    )
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str] = mapped_column(Text)
    #: ``queued`` (waiting or retrying), ``sent``, or ``failed`` (given up; ``mail retry``)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    #: delivery attempts made so far
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    #: the worker holding the message, and until when: a lease, so a crashed worker's
    #: claim lapses and another worker takes the message over
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claimed_until: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    #: set while an attempt is under way: still set when a claim lapses, the worker
    #: stopped mid-send and the message may have been delivered (the repeat is harmless:
    #: the same ``Message-ID``)
    sending_since: Mapped[datetime | None]
    #: how a sent message left: ``smtp``, or ``file`` (an ``.eml`` in the outbox folder)
    delivered_via: Mapped[str | None] = mapped_column(String(16))


class ClientReminder(db.Model):
    """An expiry reminder already queued for a client: at most one per client and kind."""

    __tablename__ = "client_reminders"

    client_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("clients.client_id"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    queued_at: Mapped[datetime] = mapped_column(default=utcnow)

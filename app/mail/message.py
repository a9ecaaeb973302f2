"""From an outbox row to an RFC 5322 message: text with an HTML alternative."""

from __future__ import annotations

from datetime import UTC
from email.message import EmailMessage
from email.utils import format_datetime

from app.services.outbox_delivery import Outgoing


def build_email(outgoing: Outgoing, mail_from: str) -> EmailMessage:
    """The message for one outbox row.

    The ``Message-ID`` is derived from the row, so if a send is repeated (a worker
    died after the server accepted the message but before recording it) the copies
    carry the same id and mail clients can fold them into one.
    """
    message = EmailMessage()
    message["From"] = mail_from
    message["To"] = outgoing.recipient
    message["Subject"] = " ".join(outgoing.subject.split())
    message["Date"] = format_datetime(outgoing.created_at.replace(tzinfo=UTC))
    message["Message-ID"] = message_id(outgoing, mail_from)
    # RFC 3834: a notification, so no vacation auto-replies
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(outgoing.text_body)
    message.add_alternative(outgoing.html_body, subtype="html")
    return message


def message_id(outgoing: Outgoing, mail_from: str) -> str:
    """``<gatehouse.<row id>.<queued at>@<sender's domain>>``."""
    domain = mail_from.rpartition("@")[2].strip("<> ") or "localhost"
    stamp = outgoing.created_at.strftime("%Y%m%d%H%M%S%f")
    return f"<gatehouse.{outgoing.id}.{stamp}@{domain}>"

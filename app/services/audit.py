"""Audit entries, added to the caller's transaction (committed with the change)."""

from __future__ import annotations

from typing import Any

from app.extensions import db
from app.models import AuditEvent
from app.services.actors import Actor


def record(actor: Actor, action: str, target: str | None, **details: Any) -> AuditEvent:
    """Add one audit entry to the session; the caller's commit writes it with the change."""
    event = AuditEvent(
        actor=actor.label, action=action, target=target, address=actor.address, details=details
    )
    db.session.add(event)
    return event

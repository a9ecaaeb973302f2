"""The mail outbox (SPEC rule 9): messages queued in the same transaction as the change.

Filled in by the mail work (issue 4). ``queue_client_event`` adds rows to the
session and never commits: the caller's commit writes them with the change.
"""

from __future__ import annotations

from app.models import Client
from app.services.actors import Actor

EVENTS = ("created", "revoked", "secret_rotated")


def queue_client_event(client: Client, event: str, actor: Actor) -> None:
    """Queue the notification about ``event`` for the client's owner (and its creator)."""
    assert event in EVENTS, event

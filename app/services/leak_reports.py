"""Leaked-credential reports: anyone who finds a Gatehouse secret where it should not be
(a public repository, a log) reports it, and the client it belongs to is revoked at once.

A reported string is looked up only if it has the shape and checksum of a secret
(no database work for anything else), by its SHA-256, which is all that is stored;
the current secret and a previous one still in its grace period both count. The
client is revoked by ``clients.revoke_client``, as every revocation is (audit actor
``leak-report`` with the reporter's address; the email says why). The caller learns
nothing about matches: the endpoint answers the same whatever happened.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import and_, or_, select

from app.extensions import db
from app.models import Client
from app.models.types import utcnow
from app.security import secrets as client_secrets
from app.services import clients, validity
from app.services.actors import Actor
from app.services.transaction import transaction

#: the most strings one report may hold
MAX_CREDENTIALS = 100


def report(credentials: Iterable[str], address: str) -> int:
    """Revoke every active client whose secret is among ``credentials``; how many were revoked
    (for the operator and the tests, never for the reporter)."""
    hashes = {
        client_secrets.hash_secret(text)
        for text in credentials
        if client_secrets.is_well_formed(text)
    }
    if not hashes:
        return 0
    now = utcnow()
    actor = Actor.leak_report(address)
    with transaction():
        matched = db.session.scalars(
            select(Client.client_id).where(
                validity.active_clause(now),
                or_(
                    Client.secret_hash.in_(hashes),
                    and_(
                        Client.previous_secret_hash.in_(hashes),
                        Client.previous_secret_valid_until > now,
                    ),
                ),
            )
        ).all()
        outcomes = [clients.revoke_client(actor, cid, clients.EXPOSED) for cid in matched]
    return sum(not already for _, already in outcomes)

"""Operations that span people and their clients, each one transaction.

Above ``users`` and ``clients`` (which know nothing of each other's changes):
deactivating a user and revoking every client they own land together, or not
at all.
"""

from __future__ import annotations

from app import metrics
from app.models import User
from app.services import clients, users
from app.services.actors import Actor
from app.services.transaction import transaction


def deactivate_user(actor: Actor, email: str) -> tuple[User, int]:
    """Deactivate a user and revoke their active clients; ``(user, how many revoked)``.

    Every revocation carries its audit entry, revocation event and email.
    """
    with transaction():
        user = users.deactivate(actor, email)
        revoked = clients.revoke_all_of(actor, user)
    for _ in range(revoked):
        metrics.revoked("client")
    return user, revoked

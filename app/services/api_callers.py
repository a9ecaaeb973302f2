"""Who calls the management API: a ``manage`` access token, acting as its client's owner.

The token is checked exactly as ``/introspect`` checks one (``access_tokens.verify``:
signature, issuer, expiry, the client active now, no scope narrowed away since it
was issued, not on the denylist), so a revoked client's token stops working within
the snapshot cache's half second. The owner is then read from the database on every
call: a deactivated owner's clients act for no one from the moment it commits.
"""

from __future__ import annotations

from app.errors import Forbidden
from app.services import access_tokens, client_queries
from app.services.actors import Actor

MANAGE = "manage"


class InsufficientScope(Forbidden):
    """RFC 6750 §3.1: a valid token without the scope the management API needs."""

    code = "insufficient_scope"


def manage_caller(token: str, address: str | None) -> Actor | None:
    """The actor a bearer token acts as, or None when the token is not valid now.

    Raises ``InsufficientScope`` for a valid token that does not carry ``manage``.
    """
    claims = access_tokens.verify(token)
    if claims is None:
        return None
    owner = client_queries.active_owner(claims["client_id"])
    if owner is None:
        return None
    if MANAGE not in claims["scope"].split():
        raise InsufficientScope(f"the token lacks the {MANAGE} scope")
    return Actor.client(claims["client_id"], owner, address)

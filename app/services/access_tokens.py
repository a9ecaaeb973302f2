"""Access tokens: issue (RFC 9068), introspect (RFC 7662), revoke (RFC 7009), feed.

Tokens are never stored. A token is valid while its signature is good, it is
unexpired, it names this issuer, its client is active now, it was issued after
the client's last scope narrowing with scopes the client still holds, and its
``jti`` is not on the denylist.
"""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete

from app import metrics
from app.errors import Conflict, InvalidInput
from app.extensions import db
from app.models import RevokedToken
from app.models.types import epoch_seconds, utcnow
from app.security import jwts
from app.services import revocation_feed
from app.services.client_cache import ClientSnapshot
from app.services.runtime import Runtime, runtime, settings
from app.services.transaction import token_denied, transaction


class InvalidScope(InvalidInput):
    """A requested scope the client does not hold (RFC 6749 §5.2 ``invalid_scope``)."""


class InvalidTarget(InvalidInput):
    """A ``resource`` this server does not issue tokens for (RFC 8707 ``invalid_target``)."""


def parse_scope(value: str) -> list[str]:
    """RFC 6749 §3.3: scope tokens separated by spaces (%x20), and only by spaces.

    A tab, a newline or any other whitespace stays inside a token, which then names no
    scope; runs of spaces are tolerated. Repeats are dropped, the order kept.
    """
    return list(dict.fromkeys(token for token in value.split(" ") if token))


def granted_scopes(client: ClientSnapshot, requested: str | None) -> list[str]:
    """A subset of the client's scopes when asked (RFC 6749 §3.3), all of them when not."""
    wanted = parse_scope(requested or "")
    if not wanted:
        return list(client.scopes)
    lacking = [scope for scope in wanted if scope not in client.scopes]
    if lacking:
        raise InvalidScope(f"the client is not allowed the scope(s): {' '.join(lacking)[:200]}")
    return wanted


def audience_for(resources: list[str]) -> str:
    """RFC 8707: the one resource asked for (must be configured), else the default audience."""
    config = settings()
    if not resources:
        return config.audience
    if len(resources) > 1:
        raise InvalidTarget("ask for one resource per token request")
    resource = resources[0].rstrip("/")
    if resource not in config.resources:
        raise InvalidTarget("the resource is not served by this authorization server")
    return resource


def issue(
    client: ClientSnapshot, scopes: list[str], audience: str, grant: str = "client_credentials"
) -> dict[str, Any]:
    """Sign a token for ``client``; it never outlives the client: ``exp`` is at most the end
    of its ``expires_on`` day. Counted in ``gatehouse_tokens_issued_total``."""
    state = runtime()
    now = int(time.time())
    client_end = epoch_seconds(client.valid_until)
    exp = min(now + state.settings.token_ttl, client_end)
    claims = {
        "iss": state.settings.issuer,
        "sub": client.client_id,
        "client_id": client.client_id,
        "aud": audience,
        "scope": " ".join(scopes),
        "iat": now,
        "nbf": now,
        "exp": exp,
        "jti": secrets.token_urlsafe(16),
    }
    key = state.keys.signing_key()
    token = jwts.sign(claims, key)
    metrics.token_issued(grant, key.alg)
    return {
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": exp - now,
        "scope": claims["scope"],
    }


def verify(token: str) -> dict[str, Any] | None:
    """The claims of a currently valid token from this server, or None."""
    state = runtime()
    claims = _signed_claims(state, token)
    return claims if claims is not None and _still_valid(state, claims) else None


def _signed_claims(state: Runtime, token: str) -> dict[str, Any] | None:
    """Signature, header and claims check, remembered per exact token string.

    A resource service introspects the same token on every call it serves; the
    signature check is a pure function of the token and the published keys, so
    its result is kept while the key set is unchanged and the token is within
    ``nbf``..``exp``. What can change (the client, the denylist) is checked on
    every call by ``_still_valid``.
    """
    state.keys.refresh()
    # Read the generation before verifying: if the keys are reloaded while this request
    # verifies, the result is stored under the older generation and is not reused after.
    generation = state.keys.generation
    cached = state.verified.peek(token)
    if cached is not None and cached[0] == generation:
        claims = cached[1]
        if max(claims["nbf"], claims["iat"]) <= time.time() < claims["exp"]:
            return claims
    config = state.settings
    try:
        claims = jwts.verify(
            token,
            state.keys.find,
            issuer=config.issuer,
            audiences={config.audience, *config.resources},
        )
    except jwts.InvalidToken:
        return None
    state.verified.put(token, (generation, claims))
    return claims


def _still_valid(state: Runtime, claims: dict[str, Any]) -> bool:
    client = state.clients.get(claims["client_id"])
    if client is None or not client.is_active(utcnow()):
        return False
    if client.not_before and claims["iat"] < epoch_seconds(client.not_before):
        return False
    if not set(claims["scope"].split()) <= set(client.scopes):
        return False
    return claims["jti"] not in state.denylist


def introspection_payload(claims: dict[str, Any]) -> dict[str, Any]:
    """RFC 7662 §2.2 response for a token ``verify`` found valid."""
    keys = ("scope", "client_id", "sub", "aud", "iss", "exp", "iat", "nbf", "jti")
    return {"active": True, "token_type": "Bearer", **{key: claims[key] for key in keys}}


def deny(claims: dict[str, Any]) -> None:
    """RFC 7009: put one verified token on the denylist until it would expire anyway."""
    jti, client_id = claims["jti"], claims["client_id"]
    try:
        with transaction():
            db.session.execute(delete(RevokedToken).where(RevokedToken.expires_at < utcnow()))
            added = db.session.get(RevokedToken, jti) is None
            if added:
                expires_at = datetime.fromtimestamp(claims["exp"], UTC).replace(tzinfo=None)
                db.session.add(RevokedToken(jti=jti, client_id=client_id, expires_at=expires_at))
                revocation_feed.add_event("token", client_id, jti=jti)
                token_denied(jti)
        if added:
            metrics.revoked("token")
    except Conflict:
        pass  # revoked by a simultaneous request: the outcome is the same

"""RFC 9068 JWT access tokens: signing and strict verification (the only PyJWT user).

Verification accepts only the algorithms Gatehouse signs with, only the
algorithm of the key the ``kid`` names (no RS/HS confusion, no ``none``),
requires ``typ: at+jwt`` and every registered claim, and allows no leeway
unless a caller asks for one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import jwt

from app.security.keys import KeyPair

ALGORITHMS = ("RS256", "ES256", "EdDSA")
TOKEN_TYPES = ("at+jwt", "application/at+jwt")
REQUIRED_CLAIMS = ["iss", "sub", "aud", "exp", "iat", "nbf", "jti", "client_id", "scope"]


class InvalidToken(Exception):
    """The token is not a valid access token from this issuer; the message says why."""


def sign(claims: dict[str, Any], key: KeyPair) -> str:
    """Sign ``claims`` with ``key`` as an RFC 9068 access token."""
    return jwt.encode(
        claims, key.private_key, algorithm=key.alg, headers={"typ": "at+jwt", "kid": key.kid}
    )


def verify(
    token: str,
    find_key: Callable[[str], KeyPair | Any | None],
    *,
    issuer: str,
    audiences: Iterable[str],
    leeway: int = 0,
) -> dict[str, Any]:
    """Verify signature, header and claims; return the claims or raise ``InvalidToken``.

    ``find_key(kid)`` returns the published key (a ``KeyPair`` or an object with
    ``alg`` and ``public_key``) or None when the kid is unknown.
    """
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise InvalidToken(f"malformed token: {exc}") from None
    if str(header.get("typ", "")).lower() not in TOKEN_TYPES:
        raise InvalidToken("not an access token (typ must be at+jwt)")
    kid, alg = header.get("kid"), header.get("alg")
    if not isinstance(kid, str) or alg not in ALGORITHMS:
        raise InvalidToken("missing kid or unsupported alg")
    key = find_key(kid)
    if key is None:
        raise InvalidToken("unknown signing key")
    if key.alg != alg:
        raise InvalidToken("alg does not match the key")
    try:
        claims = jwt.decode(
            token,
            key.public_key,
            algorithms=[key.alg],
            issuer=issuer,
            audience=list(audiences),
            leeway=leeway,
            options={"require": REQUIRED_CLAIMS},
        )
    except jwt.PyJWTError as exc:
        raise InvalidToken(str(exc)) from None
    if claims["sub"] != claims["client_id"] or not isinstance(claims["scope"], str):
        raise InvalidToken("inconsistent claims")
    return claims


def public_key_from_jwk(jwk: dict[str, Any]) -> Any:
    """A public key object from a JWK (used by the offline verifier in ``app.resource``)."""
    return jwt.PyJWK(jwk).key

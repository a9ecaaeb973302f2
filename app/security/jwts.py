"""RFC 9068 JWT access tokens: signing and strict verification (the only PyJWT user).

Verification accepts only the algorithms Gatehouse signs with, only the
algorithm of the key the ``kid`` names (no RS/HS confusion, no ``none``),
requires ``typ: at+jwt`` and every registered claim, and allows no leeway
unless a caller asks for one.
"""

from __future__ import annotations

import base64
import functools
import json
from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType
from typing import Any

import jwt
import orjson

from app.security.key_pairs import KeyPair

ALGORITHMS = ("RS256", "ES256", "EdDSA")
TOKEN_TYPES = ("at+jwt", "application/at+jwt")
REQUIRED_CLAIMS = ["iss", "sub", "aud", "exp", "iat", "nbf", "jti", "client_id", "scope"]
NUMERIC_DATES = ("exp", "iat", "nbf")
_SIGNERS = {name: jwt.get_algorithm_by_name(name) for name in ALGORITHMS}
_BASE64URL = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


class InvalidToken(Exception):
    """The token is not a valid access token from this issuer; the message says why."""


class _JWS(jwt.PyJWS):
    """PyJWS with the same strict base64url check (RFC 7515 §2: the URL-safe alphabet, at
    most two ``=``, canonical trailing bits) run by ``bytes.translate`` in C.

    PyJWT 2.15 tests each character of every segment in a Python generator: 21 µs for
    an ES256 token's three segments, 5 µs this way (29 and 7 µs for RS256); offline RS256
    verification went from 13,400 to 16,000 a second (``python -m bench.verify``). The
    answers are PyJWS's own (tests/security/test_jws_segments.py compares them).
    """

    @staticmethod
    def _decode_base64url_segment(segment: bytes, name: str) -> bytes:
        stripped = segment.rstrip(b"=")
        padding = len(segment) - len(stripped)
        if (
            padding > 2
            or (padding and len(segment) % 4)
            or len(stripped) % 4 == 1
            or stripped.translate(None, _BASE64URL)
        ):
            raise jwt.DecodeError(f"Invalid {name} padding")
        decoded = base64.urlsafe_b64decode(stripped + b"=" * (-len(stripped) % 4))
        if _b64(decoded) != stripped:
            raise jwt.DecodeError(f"Invalid {name} padding")
        return decoded


_DECODER = jwt.PyJWT()
_DECODER._jws = _JWS(options=_DECODER._get_sig_options())  # PyJWT's one JWS decoder


def sign(claims: dict[str, Any], key: KeyPair) -> str:
    """Sign ``claims`` with ``key`` as an RFC 9068 access token (RFC 7515 §5.1 compact form).

    The same bytes ``jwt.encode`` would produce, assembled here so that the
    header, the same for every token of a key, is encoded once per key rather
    than once per token, and PyJWT's algorithm object signs. The claims are
    compact JSON from orjson (0.17 µs against the standard library's 3.3): the
    same text for ASCII claims; any other character is written as UTF-8, not as
    a ``\\u`` escape (RFC 8259 §8.1, equally valid).
    """
    payload = _b64(orjson.dumps(claims))
    signing_input = _header_segment(key.kid, key.alg) + b"." + payload
    signature = _SIGNERS[key.alg].sign(signing_input, key.private_key)
    return (signing_input + b"." + _b64(signature)).decode("ascii")


@functools.lru_cache(maxsize=64)
def _header_segment(kid: str, alg: str) -> bytes:
    """The encoded JOSE header, sorted as PyJWT sorts it: ``alg``, ``kid``, ``typ``."""
    header = {"alg": alg, "kid": kid, "typ": "at+jwt"}
    return _b64(json.dumps(header, separators=(",", ":")).encode())


def _b64(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


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
    header = _peek_header(token)
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
        claims = _DECODER.decode(
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
    # RFC 7519 §2: a NumericDate is a JSON number, and this issuer writes only integers;
    # PyJWT also takes a string of digits, which would then break every comparison after
    if any(type(claims[name]) is not int for name in NUMERIC_DATES):
        raise InvalidToken("exp, iat and nbf must be integers")
    return claims


def _peek_header(token: str) -> Mapping[str, Any]:
    """The unverified JOSE header, only to pick the key; ``jwt.decode`` checks it all again.

    Parsed here rather than with ``jwt.get_unverified_header`` because PyJWT's
    segment validation is per character in Python and would run twice per token.
    """
    segment = token.split(".", 1)[0] if isinstance(token, str) else ""
    if not segment or len(segment) > 1024 or token.count(".") != 2:
        raise InvalidToken("malformed token")
    return _parse_header(segment)


@functools.lru_cache(maxsize=64)
def _parse_header(segment: str) -> Mapping[str, Any]:
    """A header segment, decoded (read-only). Every token of one key has the same header,
    so a verifier decodes it once per key, not once per token."""
    try:
        header = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except (ValueError, TypeError):
        raise InvalidToken("malformed token header") from None
    if not isinstance(header, dict):
        raise InvalidToken("malformed token header")
    return MappingProxyType(header)


def public_key_from_jwk(jwk: dict[str, Any]) -> Any:
    """A public key object from a JWK (used by the offline verifier in ``app.resource``)."""
    return jwt.PyJWK(jwk).key

"""The issuer's published keys (RFC 7517 JWKS), parsed into verification keys."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from app.security import jwts

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PublishedKey:
    """A public key from the JWKS, in the shape ``jwts.verify`` expects."""

    kid: str
    alg: str
    public_key: Any


def parse_jwks(document: Any) -> dict[str, PublishedKey]:
    """The usable signing keys of a JWKS document, by kid; others are skipped."""
    keys: dict[str, PublishedKey] = {}
    entries = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise ValueError("not a JWKS document (no 'keys' list)")
    for jwk in entries:
        if not isinstance(jwk, dict):
            continue
        kid, alg = jwk.get("kid"), jwk.get("alg")
        if not isinstance(kid, str) or alg not in jwts.ALGORITHMS or jwk.get("use", "sig") != "sig":
            continue
        try:
            keys[kid] = PublishedKey(kid, alg, jwts.public_key_from_jwk(jwk))
        except Exception as exc:  # noqa: BLE001 - one bad entry must not hide the others
            log.warning("skipping JWKS key %s: %s", kid, exc)
    return keys

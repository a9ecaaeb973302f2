"""``jwts.sign`` builds the compact JWS that PyJWT builds, and ``jwts.verify`` accepts it."""

from __future__ import annotations

import time

import jwt
import pytest

from app.security import jwts
from app.security.key_pairs import KeyPair, generate_private_key

ISSUER = "https://issuer.example"


def _claims() -> dict:
    now = int(time.time())
    return {
        "iss": ISSUER,
        "sub": "client-1",
        "client_id": "client-1",
        "aud": ISSUER,
        "scope": "jobs candidates",
        "iat": now,
        "nbf": now,
        "exp": now + 600,
        "jti": "jti-1",
    }


def _pyjwt(claims: dict, key: KeyPair) -> str:
    headers = {"typ": "at+jwt", "kid": key.kid}
    return jwt.encode(claims, key.private_key, algorithm=key.alg, headers=headers)


def test_rs256_tokens_are_byte_for_byte_pyjwts():
    """RSASSA-PKCS1-v1_5 is deterministic: the whole token must be the same."""
    key = KeyPair("kid-rsa", "RS256", generate_private_key("RS256"))
    claims = _claims()
    assert jwts.sign(claims, key) == _pyjwt(claims, key)


@pytest.mark.parametrize("alg", ["RS256", "ES256", "EdDSA"])
def test_header_and_payload_are_pyjwts_and_the_signature_verifies(alg):
    key = KeyPair(f"kid-{alg}", alg, generate_private_key(alg))
    claims = _claims()
    token = jwts.sign(claims, key)
    assert token.split(".")[:2] == _pyjwt(claims, key).split(".")[:2]
    assert jwt.get_unverified_header(token) == {"alg": alg, "kid": key.kid, "typ": "at+jwt"}
    assert jwt.decode(token, key.public_key, algorithms=[alg], audience=ISSUER) == claims
    assert jwts.verify(token, {key.kid: key}.get, issuer=ISSUER, audiences=[ISSUER]) == claims


def test_each_key_signs_with_its_own_header():
    first = KeyPair("kid-a", "ES256", generate_private_key("ES256"))
    second = KeyPair("kid-b", "EdDSA", generate_private_key("EdDSA"))
    claims = _claims()
    assert jwt.get_unverified_header(jwts.sign(claims, first))["kid"] == "kid-a"
    header = jwt.get_unverified_header(jwts.sign(claims, second))
    assert header["kid"] == "kid-b" and header["alg"] == "EdDSA"


@pytest.mark.parametrize(
    "claim, value",
    [
        ("exp", "9999999999"),
        ("nbf", "0"),
        ("iat", "0"),
        ("exp", 9999999999.5),
        ("iat", True),
        ("nbf", None),
        ("exp", [9999999999]),
    ],
)
def test_numeric_dates_are_integers_or_the_token_is_refused(claim, value):
    """RFC 7519 §2: a NumericDate is a JSON number (PyJWT also takes a string of digits);
    this issuer only ever writes integers, so nothing else verifies, here or offline."""
    key = KeyPair("kid-rsa", "RS256", generate_private_key("RS256"))
    claims = _claims() | {claim: value}
    token = jwts.sign(claims, key)
    with pytest.raises(jwts.InvalidToken):
        jwts.verify(token, {key.kid: key}.get, issuer=ISSUER, audiences=[ISSUER])


def test_a_header_gets_the_same_answer_every_time():
    """Decoded headers are remembered per segment (one per key): a refused header is
    refused again, and a remembered one cannot be changed by whoever reads it."""
    key = KeyPair("kid-es", "ES256", generate_private_key("ES256"))
    token = jwts.sign(_claims(), key)
    rest = token[token.index(".") :]
    unsigned = jwt.utils.base64url_encode(b'{"alg":"none","typ":"at+jwt"}').decode() + rest
    broken = "e30x" + rest  # not JSON once decoded

    def verify(candidate: str) -> dict:
        return jwts.verify(candidate, {key.kid: key}.get, issuer=ISSUER, audiences=[ISSUER])

    for _ in range(2):
        for refused in (unsigned, broken):
            with pytest.raises(jwts.InvalidToken):
                verify(refused)
        assert verify(token)["jti"] == "jti-1"
    with pytest.raises(TypeError):
        jwts._peek_header(token)["alg"] = "none"  # type: ignore[index]

"""The faster base64url check of ``app.security.jwts`` gives PyJWS's own answers.

PyJWS's segment check is what refuses tokens with characters outside the URL-safe
alphabet, extra padding or non-canonical trailing bits (RFC 7515 §2); the
replacement must refuse exactly the same segments and decode the rest identically.
"""

from __future__ import annotations

import jwt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.security import jwts
from app.security.key_pairs import KeyPair, generate_private_key
from tests.security.test_jwts import ISSUER, _claims

ORIGINAL = jwt.PyJWS._decode_base64url_segment
FASTER = jwts._JWS._decode_base64url_segment


def _answer(decode, segment: bytes) -> bytes | str:
    try:
        return decode(segment, "crypto")
    except jwt.DecodeError as exc:
        return f"refused: {exc}"


@pytest.mark.parametrize(
    "segment",
    [
        b"",
        b"QQ",
        b"QQ==",
        b"QQ=",
        b"QQ===",
        b"QUI",
        b"QUI=",
        b"QUJD",
        b"QR",  # non-canonical trailing bits
        b"Q",  # a length no encoding has
        b"QUJD+/",  # the other alphabet
        b"QU!D",
        b"QU D",
        b"QUJD\n",
        b"=QQ",
        b"Q=Q=",
        "QUJDé".encode(),
        b"\x00QQ",
    ],
)
def test_the_same_answer_as_pyjws_for_each_kind_of_segment(segment: bytes) -> None:
    assert _answer(FASTER, segment) == _answer(ORIGINAL, segment)


@settings(max_examples=2000, deadline=None, database=None, derandomize=True)
@given(st.binary(max_size=24) | st.text("ABCab09-_+/=!. ", max_size=24).map(str.encode))
def test_the_same_answer_as_pyjws_for_any_segment(segment: bytes) -> None:
    assert _answer(FASTER, segment) == _answer(ORIGINAL, segment)


@pytest.mark.parametrize("alg", ["RS256", "ES256", "EdDSA"])
def test_a_token_spelled_another_way_is_refused(alg: str) -> None:
    """The same signature bytes written differently (other trailing bits, the other
    alphabet, a stray character) make another token string: a verifier that ignored it
    could be fed one token under many names. (Trailing ``=`` padding PyJWT accepts on
    purpose, as some issuers write it.)"""
    key = KeyPair("k1", alg, generate_private_key(alg))
    token = jwts.sign(_claims(), key)
    assert jwts.verify(token, {"k1": key}.get, issuer=ISSUER, audiences=[ISSUER])
    head, _, signature = token.rpartition(".")
    last = signature[-1]
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    spare_bits = {"RS256": 4, "ES256": 2, "EdDSA": 4}[alg]  # 256, 64, 64 bytes
    twin = alphabet[alphabet.index(last) ^ 1]  # flips a bit the decoder throws away
    assert spare_bits and twin != last
    variants = [
        signature[:-1] + twin,
        signature.replace("-", "+").replace("_", "/") if "-" in signature + "_" else None,
        signature[:10] + "!" + signature[10:],
    ]
    for variant in filter(None, variants):
        if variant == signature:
            continue
        with pytest.raises(jwts.InvalidToken):
            jwts.verify(f"{head}.{variant}", {"k1": key}.get, issuer=ISSUER, audiences=[ISSUER])

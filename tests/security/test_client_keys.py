"""Registering a key client's public keys: RSA of 2048 bits or more, EC P-256 and Ed25519,
public only, as a JWK Set, one JWK or one PEM; everything else refused with a message
that says what to upload instead."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa, x25519

from app.security.client_keys import KeySetError, key_ids, load_key_set, parse_key_set
from tests.assertions import private_pem, public_jwk, public_pem, session_key


def _short_rsa():
    # the point of the test: a key too short to be registered
    return rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505


def _pem_of(public_key) -> str:
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


@pytest.mark.parametrize(
    "make",
    [
        lambda: public_pem(session_key("rsa")),
        lambda: public_pem(session_key("ec")),
        lambda: public_pem(session_key("ed")),
        lambda: json.dumps(public_jwk(session_key("ec"))),
        lambda: json.dumps(
            {"keys": [public_jwk(session_key("rsa")), public_jwk(session_key("ed"))]}
        ),
        lambda: {"keys": [public_jwk(session_key("rsa"), kid="mine", alg="PS256", use="sig")]},
        lambda: {"keys": [public_jwk(session_key("ed"), alg="Ed25519")]},
        lambda: "\n  " + public_pem(session_key("ec")) + "\n\n",
    ],
    ids=[
        "RSA PEM",
        "EC PEM",
        "Ed25519 PEM",
        "one EC JWK",
        "a JWK Set",
        "a JWK Set object with kid, alg, use",
        "Ed25519 under its RFC 9864 alg",
        "PEM with blank lines around",
    ],
)
def test_public_keys_are_registered(make):
    stored = parse_key_set(make())
    keys = json.loads(stored)["keys"]
    assert keys and all(key["kid"] for key in keys)
    assert not any({"d", "p", "q", "dp", "dq", "qi", "k"} & set(key) for key in keys)
    assert len(load_key_set(stored).keys) == len(keys)
    assert parse_key_set(stored) == stored  # the stored form registers as itself


def test_a_key_keeps_its_own_kid_and_gets_a_thumbprint_otherwise():
    stored = parse_key_set(
        {"keys": [public_jwk(session_key("ec"), kid="laptop"), public_jwk(session_key("rsa"))]}
    )
    kids = key_ids(stored)
    assert kids[0] == "laptop"
    assert len(kids[1]) == 43  # base64url SHA-256 (RFC 7638)


def _private_jwk() -> str:
    key = session_key("ec")
    numbers = key.private_numbers()
    jwk = public_jwk(key) | {"d": numbers.private_value.to_bytes(32, "big").hex()}
    return json.dumps(jwk)


@pytest.mark.parametrize(
    ("value", "says"),
    [
        (lambda: private_pem(session_key("ec")), "private key"),
        (lambda: private_pem(session_key("rsa")), "openssl pkey -in key.pem -pubout"),
        (_private_jwk, "private key"),
        (lambda: json.dumps({"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}), "symmetric"),
        (lambda: _pem_of(_short_rsa().public_key()), "at least 2048 bits"),
        (lambda: {"keys": [public_jwk(_short_rsa())]}, "1024 bits"),
        (lambda: _pem_of(ec.generate_private_key(ec.SECP384R1()).public_key()), "P-256"),
        (lambda: {"keys": [public_jwk(ec.generate_private_key(ec.SECP384R1()))]}, "P-256"),
        (lambda: _pem_of(x25519.X25519PrivateKey.generate().public_key()), "RSA"),
        (lambda: {"keys": [public_jwk(session_key("ec"), use="enc")]}, '"sig"'),
        (lambda: {"keys": [public_jwk(session_key("ec"), alg="RS256")]}, "ES256"),
        (lambda: {"keys": [public_jwk(session_key("rsa"), alg="HS256")]}, "RS256 or PS256"),
        (lambda: {"keys": [{"kty": "RSA", "n": "abc", "e": "AQAB"}]}, "2048"),
        (lambda: {"keys": [{"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"}]}, "not a valid"),
        (lambda: {"keys": [{"kty": "DSA"}]}, "RSA, EC or OKP"),
        (lambda: {"keys": []}, "JWK Set"),
        (lambda: {"keys": "nope"}, "JWK Set"),
        (lambda: [1, 2], "JWK Set"),
        (lambda: {"keys": [public_jwk(session_key("ec"))] * 2}, "share a kid"),
        (lambda: {"keys": [public_jwk(session_key("ec"), kid=f"k{i}") for i in range(11)]}, "10"),
        (lambda: {"keys": [public_jwk(session_key("ec"), kid="x" * 200)]}, "kid"),
        (lambda: "not a key at all", "JWK Set nor a PEM public key"),
        (lambda: "-----BEGIN PUBLIC KEY-----\ngarbage\n-----END PUBLIC KEY-----", "PEM"),
        (lambda: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----", "certificate"),
        (lambda: "", "JWK Set"),
        (lambda: 42, "JSON or PEM"),
    ],
    ids=[
        "EC private PEM",
        "RSA private PEM",
        "private JWK",
        "symmetric JWK",
        "RSA-1024 PEM",
        "RSA-1024 JWK",
        "P-384 PEM",
        "P-384 JWK",
        "X25519 PEM",
        "use enc",
        "alg of another key type",
        "HS256 on an RSA key",
        "RSA modulus garbage",
        "EC point not on the curve",
        "unknown kty",
        "empty set",
        "keys not a list",
        "a JSON list",
        "duplicate kid",
        "eleven keys",
        "kid too long",
        "garbage text",
        "garbage PEM",
        "a certificate",
        "empty text",
        "not text",
    ],
)
def test_anything_else_is_refused_saying_what_to_upload(value, says):
    with pytest.raises(KeySetError) as refused:
        parse_key_set(value())
    assert says in str(refused.value)

"""Client assertions (RFC 7523 §2.2) as a test makes them: keys, public JWK Sets, signed JWTs.

Signed with PyJWT's algorithm objects and ``cryptography``, not with joserfc (what the
server verifies with), so a mistake shared by both sides cannot hide; the JOSE header
is built here so a test can put anything in it (``alg: none``, a stray ``kid``).
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from functools import cache
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
#: the algorithm PyJWT signs with for each assertion ``alg`` (Ed25519 is EdDSA by its new name)
_SIGNERS = {"RS256": "RS256", "PS256": "PS256", "ES256": "ES256", "EdDSA": "EdDSA"}
_SIGNERS["Ed25519"] = "EdDSA"
#: the key type each ``alg`` needs
KIND = {"RS256": "rsa", "PS256": "rsa", "ES256": "ec", "EdDSA": "ed", "Ed25519": "ed"}


def new_key(kind: str) -> Any:
    """A fresh private key: ``rsa`` (2048 bits), ``ec`` (P-256) or ``ed`` (Ed25519)."""
    if kind == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if kind == "ec":
        return ec.generate_private_key(ec.SECP256R1())
    return ed25519.Ed25519PrivateKey.generate()


@cache
def session_key(kind: str, number: int = 0) -> Any:
    """A key generated once per test session (RSA generation is slow)."""
    return new_key(kind)


def public_jwk(key: Any, **members: Any) -> dict[str, Any]:
    """The public JWK of a private key, plus ``members`` (``kid``, ``alg`` …)."""
    public = key.public_key()
    if isinstance(public, rsa.RSAPublicKey):
        jwk = jwt.algorithms.RSAAlgorithm.to_jwk(public, as_dict=True)
    elif isinstance(public, ec.EllipticCurvePublicKey):
        jwk = jwt.algorithms.ECAlgorithm.to_jwk(public, as_dict=True)
    else:
        jwk = jwt.algorithms.OKPAlgorithm.to_jwk(public, as_dict=True)
    return dict(jwk, **members)


def jwk_set(*keys: Any) -> dict[str, Any]:
    return {"keys": [public_jwk(key) for key in keys]}


def public_pem(key: Any) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def private_pem(key: Any) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def claims_for(client_id: str, aud: Any, **overrides: Any) -> dict[str, Any]:
    """Claims a well-behaved client sends (valid for a minute), with ``overrides``
    (a value of None drops the claim)."""
    now = int(time.time())
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": aud,
        "iat": now,
        "exp": now + 60,
        "jti": uuid.uuid4().hex,
    }
    claims.update(overrides)
    return {name: value for name, value in claims.items() if value is not None}


def sign(claims: dict[str, Any], key: Any, alg: str, **header: Any) -> str:
    """A compact JWS of ``claims``; ``header`` adds or (with None) removes JOSE fields."""
    fields = {"alg": alg, "typ": "JWT", **header}
    fields = {name: value for name, value in fields.items() if value is not None}
    signing_input = (
        b64url(json.dumps(fields).encode()) + "." + b64url(json.dumps(claims).encode())
    ).encode()
    if alg == "none":
        return signing_input.decode() + "."
    if alg.startswith("HS"):
        signature = jwt.get_algorithm_by_name(alg).sign(signing_input, key)
    else:
        signature = jwt.get_algorithm_by_name(_SIGNERS[alg]).sign(signing_input, key)
    return signing_input.decode() + "." + b64url(signature)


def assertion(client_id: str, key: Any, alg: str, aud: Any, **overrides: Any) -> str:
    """A signed assertion for ``client_id``; ``overrides`` change the claims."""
    return sign(claims_for(client_id, aud, **overrides), key, alg)


def assertion_form(value: str, **extra: str) -> dict[str, str]:
    """The form parameters of RFC 7521 §4.2 carrying ``value``."""
    return {"client_assertion_type": ASSERTION_TYPE, "client_assertion": value, **extra}

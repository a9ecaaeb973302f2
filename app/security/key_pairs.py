"""Asymmetric signing keys: generation, PEM (PKCS#8) encoding and parsing, public JWKs."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey


@dataclass(frozen=True)
class KeyPair:
    """A parsed key: parse once, keep the object (PyJWT re-parses PEM text on every call)."""

    kid: str
    alg: str
    private_key: PrivateKey

    @cached_property
    def public_key(self) -> Any:
        """Kept, not rebuilt: a fresh key object redoes OpenSSL's setup (~100 µs a verify)."""
        return self.private_key.public_key()

    def public_jwk(self) -> dict[str, Any]:
        """The RFC 7517 public JWK with ``kid``, ``alg`` and ``use: sig``."""
        algorithm = {"RS256": RSAAlgorithm, "ES256": ECAlgorithm, "EdDSA": OKPAlgorithm}[self.alg]
        jwk = dict(algorithm.to_jwk(self.public_key, as_dict=True))
        jwk.update(kid=self.kid, alg=self.alg, use="sig")
        return jwk


def generate_private_key(alg: str) -> PrivateKey:
    """A fresh private key for ``alg`` (RS256: RSA-2048, ES256: P-256, EdDSA: Ed25519)."""
    if alg == "RS256":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if alg == "ES256":
        return ec.generate_private_key(ec.SECP256R1())
    if alg == "EdDSA":
        return ed25519.Ed25519PrivateKey.generate()
    raise ValueError(f"unsupported signing algorithm {alg!r}")


def to_pem(private_key: PrivateKey) -> bytes:
    """PKCS#8 PEM, unencrypted (the file's mode 0600 protects it)."""
    return private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def load_pem(kid: str, pem: bytes) -> KeyPair:
    """Parse a PEM private key and infer its JWS algorithm from the key type."""
    key = serialization.load_pem_private_key(pem, password=None)
    if isinstance(key, rsa.RSAPrivateKey):
        if key.key_size < 2048:
            raise ValueError(f"key {kid}: RSA keys must be at least 2048 bits")
        return KeyPair(kid, "RS256", key)
    if isinstance(key, ec.EllipticCurvePrivateKey) and isinstance(key.curve, ec.SECP256R1):
        return KeyPair(kid, "ES256", key)
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return KeyPair(kid, "EdDSA", key)
    raise ValueError(f"key {kid}: unsupported key type {type(key).__name__}")

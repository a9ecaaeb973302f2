"""A key client's public keys (``private_key_jwt``, RFC 7523 §2.2): checked at registration.

Accepted: a JWK Set (RFC 7517 §5) or a single JWK, as JSON text or a parsed object,
or one PEM public key. Each key is RSA of at least 2048 bits, EC on P-256, or
Ed25519, and public only. Anything else is refused with a message saying what to
upload instead. The stored form is a JWK Set of public members only, each key with
a ``kid`` (its RFC 7638 thumbprint when none was given), serialised canonically.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet, OKPKey, RSAKey

MIN_RSA_BITS = 2048
MAX_KEYS = 10
MAX_KID = 128
#: JWK members that only a private or symmetric key has (RFC 7518 §6.2.2, §6.3.2, §6.4)
PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth", "k")
#: the assertion algorithms each key type may sign with. ``Ed25519`` is RFC 9864's name for
#: EdDSA over Ed25519 (what openid-client sends for an Ed25519 key); ``EdDSA`` the older one
ALGS_BY_KTY = {"RSA": ("RS256", "PS256"), "EC": ("ES256",), "OKP": ("EdDSA", "Ed25519")}
ALLOWED_ALGS = tuple(alg for algs in ALGS_BY_KTY.values() for alg in algs)
KTY_BY_ALG = {alg: kty for kty, algs in ALGS_BY_KTY.items() for alg in algs}
_PUBLIC_MEMBERS = {"RSA": ("n", "e"), "EC": ("crv", "x", "y"), "OKP": ("crv", "x")}
_CLASSES = {"RSA": RSAKey, "EC": ECKey, "OKP": OKPKey}
WHAT_TO_UPLOAD = (
    "upload a JWK Set of public keys or one PEM public key (RSA of 2048 bits or more, "
    "EC P-256 or Ed25519)"
)
PUBLIC_ONLY = (
    "upload only the public key (openssl pkey -in key.pem -pubout prints it); "
    "the private key never leaves the integration"
)


class KeySetError(ValueError):
    """The keys cannot be registered; the message says why and what to upload instead."""


def parse_key_set(value: str | dict[str, Any]) -> str:
    """The normalised public JWK Set (JSON text) for ``value``, or ``KeySetError``."""
    if isinstance(value, dict):
        data: Any = value
    elif isinstance(value, str):
        data = _decode_text(value.strip())
    else:
        raise KeySetError(f"keys must be JSON or PEM text: {WHAT_TO_UPLOAD}")
    if isinstance(data, dict) and "keys" not in data and "kty" in data:
        data = {"keys": [data]}  # a single JWK
    keys = data.get("keys") if isinstance(data, dict) else None
    if not isinstance(keys, list) or not keys:
        raise KeySetError(f'a JWK Set is a JSON object {{"keys": [...]}}: {WHAT_TO_UPLOAD}')
    if len(keys) > MAX_KEYS:
        raise KeySetError(f"a key set holds at most {MAX_KEYS} keys, this one has {len(keys)}")
    checked = [_check_jwk(jwk, f"key {index + 1}") for index, jwk in enumerate(keys)]
    kids = [key["kid"] for key in checked]
    if len(set(kids)) != len(kids):
        raise KeySetError("two keys share a kid: give each key its own kid, or none")
    return json.dumps({"keys": checked}, sort_keys=True, separators=(",", ":"))


def key_ids(jwks: str) -> list[str]:
    """The ``kid`` of each key of a stored set."""
    return [key["kid"] for key in json.loads(jwks)["keys"]]


@functools.lru_cache(maxsize=1024)
def load_key_set(jwks: str) -> KeySet:
    """joserfc keys for a stored (already checked) set, parsed once per distinct set."""
    keys = []
    for jwk in json.loads(jwks)["keys"]:
        if jwk["kty"] == "OKP":
            # "EdDSA" and "Ed25519" name one signature here; joserfc would refuse an assertion
            # whose alg differs from the JWK's (the assertion check compares them itself)
            jwk = {name: value for name, value in jwk.items() if name != "alg"}
        keys.append(_CLASSES[jwk["kty"]].import_key(jwk))
    return KeySet(keys)


def _decode_text(text: str) -> Any:
    if "PRIVATE KEY" in text:
        raise KeySetError(f"this is a private key: {PUBLIC_ONLY}")
    if "BEGIN CERTIFICATE" in text:
        raise KeySetError(
            "this is a certificate: upload its public key instead "
            "(openssl x509 -in cert.pem -pubkey -noout prints it)"
        )
    if text.startswith("-----BEGIN"):
        return {"keys": [_jwk_from_pem(text)]}
    try:
        return json.loads(text)
    except ValueError:
        raise KeySetError(f"not a JWK Set nor a PEM public key: {WHAT_TO_UPLOAD}") from None


def _jwk_from_pem(text: str) -> dict[str, Any]:
    try:
        key = load_pem_public_key(text.encode())
    except (ValueError, TypeError):
        raise KeySetError(f"not a readable PEM public key: {WHAT_TO_UPLOAD}") from None
    if isinstance(key, rsa.RSAPublicKey):
        _check_rsa_bits(key.key_size, "the key")
        return RSAKey.import_key(key).as_dict(private=False)
    if isinstance(key, ec.EllipticCurvePublicKey):
        if not isinstance(key.curve, ec.SECP256R1):
            raise KeySetError(f"the key is on curve {key.curve.name}: EC keys must be on P-256")
        return ECKey.import_key(key).as_dict(private=False)
    if isinstance(key, ed25519.Ed25519PublicKey):
        return OKPKey.import_key(key).as_dict(private=False)
    raise KeySetError(f"unsupported key type {type(key).__name__}: {WHAT_TO_UPLOAD}")


def _check_jwk(jwk: Any, where: str) -> dict[str, Any]:
    """One JWK, refused or reduced to its public members (plus ``kid``, ``alg``, ``use``)."""
    if not isinstance(jwk, dict):
        raise KeySetError(f"{where} is not a JSON object: {WHAT_TO_UPLOAD}")
    kty = jwk.get("kty")
    if kty == "oct":
        raise KeySetError(f"{where} is a symmetric (oct) key, a shared secret: {WHAT_TO_UPLOAD}")
    if kty not in _CLASSES:
        raise KeySetError(f"{where} has kty {str(kty)[:20]!r}: kty must be RSA, EC or OKP")
    present = [member for member in PRIVATE_MEMBERS if member in jwk]
    if present:
        raise KeySetError(f"{where} is a private key (it has {present[0]!r}): {PUBLIC_ONLY}")
    if jwk.get("use", "sig") != "sig":
        raise KeySetError(f'{where} has use {str(jwk.get("use"))[:20]!r}: it must be "sig"')
    alg = jwk.get("alg")
    if alg is not None and alg not in ALGS_BY_KTY[kty]:
        allowed = " or ".join(ALGS_BY_KTY[kty])
        raise KeySetError(f"{where} has alg {str(alg)[:20]!r}: a {kty} key signs with {allowed}")
    if kty == "EC" and jwk.get("crv") != "P-256":
        raise KeySetError(f"{where} is on curve {str(jwk.get('crv'))[:20]}: EC keys must be P-256")
    if kty == "OKP" and jwk.get("crv") != "Ed25519":
        raise KeySetError(f"{where} is {str(jwk.get('crv'))[:20]}: OKP keys must be Ed25519")
    public = {name: jwk.get(name) for name in ("kty", *_PUBLIC_MEMBERS[kty])}
    if kty == "RSA":
        # before joserfc sees it: joserfc only warns about a short RSA key
        _check_rsa_bits(_bits(public["n"]), where)
    try:
        key = _CLASSES[kty].import_key(public)
    except (JoseError, ValueError, TypeError):
        raise KeySetError(f"{where} is not a valid {kty} public key") from None
    kid = jwk.get("kid") or key.thumbprint()
    if not isinstance(kid, str) or len(kid) > MAX_KID or not kid.isprintable():
        raise KeySetError(f"{where}: kid must be printable text of at most {MAX_KID} characters")
    normalised = dict(public, kid=kid)
    for member in ("alg", "use"):
        if member in jwk:
            normalised[member] = jwk[member]
    return normalised


def _check_rsa_bits(bits: int, where: str) -> None:
    if bits < MIN_RSA_BITS:
        raise KeySetError(
            f"{where} is an RSA key of {bits} bits: RSA keys must have at least "
            f"{MIN_RSA_BITS} bits; generate a new one (e.g. 3072 bits) or use EC P-256 or Ed25519"
        )


def _bits(modulus: Any) -> int:
    """The size of a JWK's base64url modulus ``n``; 0 when it is not one."""
    if not isinstance(modulus, str):
        return 0
    try:
        raw = base64.urlsafe_b64decode(modulus + "=" * (-len(modulus) % 4))
    except (ValueError, binascii.Error):
        return 0
    return int.from_bytes(raw, "big").bit_length()

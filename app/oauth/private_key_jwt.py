"""``private_key_jwt`` client authentication (RFC 7523 §2.2, §3) over Authlib's machinery.

Authlib's ``JWTBearerClientAssertion`` keeps the protocol: read
``client_assertion``, look the client up by the assertion's ``sub``, verify the
signature (joserfc), check the claims (``iss``, ``sub``, ``aud``, ``exp``
essential; ``exp``, ``nbf``, ``iat`` with leeway; ``iss`` = ``sub``), then the
``jti``. This subclass adds what the class leaves open or gets wrong for us:

- algorithms: RS256, PS256, ES256 and EdDSA (also under RFC 9864's name ``Ed25519``,
  which openid-client sends), each only with a key of its type; never ``none`` or
  HS*. Authlib's call leaves joserfc's "recommended" set in force, which refuses
  PS256 and EdDSA;
- key choice: clients rarely send a ``kid`` (neither Authlib's ``PrivateKeyJWT`` nor
  openid-client does), so every key of the set that fits the algorithm is tried,
  the named one alone when a ``kid`` names a key;
- ``exp`` at most one hour (plus the leeway) ahead; Authlib sets no bound;
- audiences of this request: the issuer, the token endpoint URL, or the URL of the
  endpoint called, all from ``GATEHOUSE_ISSUER`` (Authlib's hook gets no request);
- ``jti``: at most 255 characters, used once (``services.assertion_replay``), checked
  only after the signature and claims, so nobody can burn another client's ``jti``.

Every refusal is Authlib's ``InvalidClientError``; ``client_auth`` answers all of them
as one ``invalid_client``, the same as a wrong secret.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from authlib.oauth2.rfc6749.errors import InvalidClientError
from authlib.oauth2.rfc7523 import JWTBearerClientAssertion
from joserfc import jws, jwt
from joserfc.errors import JoseError, UnsupportedAlgorithmError
from joserfc.jwk import Key, KeySet

from app.security.client_keys import ALLOWED_ALGS, KTY_BY_ALG
from app.services.assertion_replay import ReplayGuard

PRIVATE_KEY_JWT = "private_key_jwt"
ASSERTION_TYPE = JWTBearerClientAssertion.CLIENT_ASSERTION_TYPE
#: clock skew allowed on ``exp``, ``nbf`` and ``iat``
LEEWAY = 60
#: the furthest ``exp`` may be ahead of now (plus the leeway)
MAX_LIFETIME = 3600
MAX_JTI = 255
_EDDSA = {"EdDSA", "Ed25519"}


class AssertionRegistry(jws.JWSRegistry):
    """joserfc's JWS registry limited to the assertion algorithms.

    ``get_alg`` is replaced rather than passing ``algorithms=``: joserfc issues a
    ``SecurityWarning`` on every use of the name ``EdDSA`` (RFC 9864 prefers
    ``Ed25519``), which clients still send. Unknown header parameters are ignored
    (RFC 7515 §4) unless listed in ``crit``.
    """

    def get_alg(self, name: str):
        if name not in ALLOWED_ALGS:
            raise UnsupportedAlgorithmError(f"algorithm {name!r} is not allowed")
        return self.algorithms[name]


REGISTRY = AssertionRegistry(strict_check_header=False)


class ClientAssertion(JWTBearerClientAssertion):
    """Authlib's RFC 7523 client authentication with Gatehouse's rules (module docstring)."""

    CLIENT_AUTH_METHOD = PRIVATE_KEY_JWT

    def __init__(self, audiences: Iterable[str], replays: ReplayGuard) -> None:
        super().__init__(validate_jti=True, leeway=LEEWAY)
        self.audiences = list(audiences)
        self.replays = replays

    def get_audiences(self) -> list[str]:
        return self.audiences

    def resolve_client_public_key(self, client: Any) -> KeySet:
        # one argument only: Authlib retries with (client, headers) on any TypeError
        return client.snapshot.key_set

    def validate_jti(self, claims: Any, jti: Any) -> bool:
        """RFC 7523 §3 item 7: refuse a ``jti`` seen before for this client, until ``exp``."""
        if not isinstance(jti, str) or not 0 < len(jti) <= MAX_JTI:
            return False
        return self.replays.first_use(claims["sub"], jti, int(claims["exp"]) + LEEWAY)

    def process_assertion_claims(self, assertion: str, resolve_key: KeySet) -> Any:
        """Verify with the first key of the set that fits the alg (and ``kid``), then the claims."""
        try:
            header = jws.extract_compact(assertion.encode(), registry=REGISTRY).headers()
        except JoseError as exc:
            raise InvalidClientError(description=exc.description) from None
        alg, kid = header.get("alg"), header.get("kid")
        if alg not in ALLOWED_ALGS:
            raise InvalidClientError(description="the assertion's alg is not allowed")
        for key in candidate_keys(resolve_key, alg, kid if isinstance(kid, str) else None):
            try:
                token = jwt.decode(assertion, key, registry=REGISTRY)
            except JoseError:
                continue
            self.verify_claims(token.claims)
            return token.claims
        raise InvalidClientError(description="no key of the client verifies the assertion")

    def verify_claims(self, claims: Any) -> None:
        """Bound ``exp`` before Authlib's checks, which end by recording the ``jti``."""
        exp = claims.get("exp")
        numeric = isinstance(exp, int | float) and not isinstance(exp, bool)
        if numeric and exp > time.time() + MAX_LIFETIME + LEEWAY:
            raise InvalidClientError(description="exp is more than one hour ahead")
        super().verify_claims(claims)


def candidate_keys(key_set: KeySet, alg: str, kid: str | None) -> list[Key]:
    """The keys that may have signed with ``alg``: of its type, for signing, with no other
    ``alg``; only the one ``kid`` names when it names one of them.

    A ``kid`` naming no key falls back to every fitting key: a client may label its key
    itself when it was registered without one (its ``kid`` is then the thumbprint).
    """
    kty = KTY_BY_ALG[alg]
    fitting = [
        key
        for key in key_set.keys
        if key.key_type == kty
        and key.get("use") in (None, "sig")
        and (key.get("alg") in (None, alg) or {key.get("alg"), alg} <= _EDDSA)
    ]
    named = [key for key in fitting if kid is not None and key.kid == kid]
    return named or fitting


def authenticate(
    request: Any,
    query_client: Callable[[str], Any],
    audiences: Iterable[str],
    replays: ReplayGuard,
) -> Any:
    """The client the request's assertion authenticates, or ``InvalidClientError``."""
    client = ClientAssertion(audiences, replays)(query_client, request)
    if client is None:  # no assertion, or one of another type
        raise InvalidClientError(description=f"client_assertion_type must be {ASSERTION_TYPE}")
    return client

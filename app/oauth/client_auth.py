"""Client authentication for /token, /introspect, /revoke and /revocations (RFC 6749 §2.3.1).

A secret (``client_secret_basic``, ``client_secret_post``), a client assertion
(``private_key_jwt``, RFC 7523 §2.2, verified by ``app.oauth.private_key_jwt``), or at
/introspect and /revocations a bearer token. Stricter than Authlib's defaults: a malformed
``Authorization`` header is an error rather than "no credentials"; two methods at
once are refused; an unknown client, a wrong secret, a refused assertion, a revoked
or expired client and a client outside its allowed networks all get the same answer
(no enumeration); a malformed secret never reaches the database; failures are counted
per source address (beyond the limit, 429 with Retry-After). Every success counts
as a use of the client (``last_used_at``, ``last_used_ip``).
"""

from __future__ import annotations

import base64
import binascii
import logging
from typing import TYPE_CHECKING
from urllib.parse import unquote_plus

from authlib.oauth2.rfc6749 import ClientMixin
from authlib.oauth2.rfc6749.errors import InvalidClientError

from app.models.types import utcnow
from app.oauth import failures, private_key_jwt
from app.oauth.errors import InvalidClient, TooManyFailures, invalid_request
from app.security.networks import allows
from app.services import access_tokens, network_refusals
from app.services.client_cache import ClientCache, ClientSnapshot
from app.services.runtime import runtime, settings

if TYPE_CHECKING:  # the server module imports this one
    from app.oauth.server import OAuthRequest

BASIC, POST, BEARER = "client_secret_basic", "client_secret_post", "bearer"
PRIVATE_KEY_JWT = private_key_jwt.PRIVATE_KEY_JWT
#: reasons of refusals (``InvalidClient.reason``) decided here
NETWORK, ASSERTION = "network", "assertion"
FAILED = (
    "client authentication failed: the client id, secret or assertion is wrong, "
    "the client is revoked or expired, or it may not authenticate from this address"
)
BEARER_FAILED = "the bearer token is invalid, expired or revoked"
log = logging.getLogger(__name__)


class OAuthClient(ClientMixin):
    """An authenticated caller as Authlib sees it; ``scopes`` are what it may use here."""

    def __init__(
        self,
        snapshot: ClientSnapshot,
        scopes: tuple[str, ...] | None = None,
        previous_secret: bool = False,
    ) -> None:
        self.snapshot = snapshot
        self.client_id = snapshot.client_id
        self.scopes = scopes if scopes is not None else snapshot.scopes
        #: authenticated with its previous secret, in the grace period of a rotation
        self.previous_secret = previous_secret

    def get_client_id(self) -> str:
        return self.client_id

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        """A key client authenticates only with assertions, a secret client only with secrets
        (either may present an access token where a bearer token is accepted)."""
        if self.snapshot.key_set is not None:
            return method in (PRIVATE_KEY_JWT, BEARER)
        return method in (BASIC, POST, BEARER)

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "client_credentials"


def parse_basic(header: str) -> tuple[str, str]:
    """``Basic base64(urlencode(id):urlencode(secret))``, strictly; raises ``InvalidClient``."""
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "basic" or not value.strip():
        raise InvalidClient("malformed Authorization header: expected HTTP Basic credentials")
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        raise InvalidClient(
            "malformed Authorization header: Basic credentials must be base64 of UTF-8 text"
        ) from None
    client_id, colon, secret = decoded.partition(":")
    if not colon or not client_id or not secret:
        raise InvalidClient("malformed Authorization header: expected client_id:client_secret")
    return unquote_plus(client_id), unquote_plus(secret)


def _credentials(request: OAuthRequest, methods: list[str]) -> tuple[str, str, str]:
    header = request.headers.get("Authorization")
    form = request.form
    if "client_assertion" in form or "client_assertion_type" in form:
        return _assertion_credentials(header, form, methods)
    in_form = "client_id" in form or "client_secret" in form
    if header is not None and in_form:
        raise invalid_request("use one client authentication method, not both header and form")
    if header is not None:
        if header.strip().lower().startswith("bearer ") and BEARER in methods:
            return BEARER, "", header.strip()[7:].strip()
        if BASIC not in methods:
            raise InvalidClient("this endpoint does not accept HTTP Basic credentials")
        return (BASIC, *parse_basic(header))
    if in_form and POST in methods:
        client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        if not client_id or not secret:
            raise InvalidClient("both client_id and client_secret are required", scheme=None)
        return POST, client_id, secret
    raise InvalidClient(
        "client authentication is required: send HTTP Basic credentials "
        "or client_id and client_secret in the form body",
        reason="missing",
    )


def _assertion_credentials(header: str | None, form, methods: list[str]) -> tuple[str, str, str]:
    """RFC 7521 §4.2: the assertion, with an optional ``client_id`` (it must name the same
    client); no other credentials beside it."""
    if header is not None or "client_secret" in form:
        raise invalid_request(
            "use one client authentication method: a client assertion or a secret, not both"
        )
    if PRIVATE_KEY_JWT not in methods:
        raise InvalidClient(
            "this request cannot carry a client assertion: send it in the form body of a POST"
        )
    return PRIVATE_KEY_JWT, form.get("client_id", ""), ""


def authenticate(request: OAuthRequest, methods: list[str]) -> OAuthClient:
    """Authenticate the caller with one of ``methods`` or raise an OAuth error."""
    address = request.address
    state = runtime()
    try:
        method, client_id, secret = _credentials(request, methods)
        if method == PRIVATE_KEY_JWT:
            caller = _verify_assertion(request, client_id)
        else:
            caller = _verify(state.clients, method, client_id, secret)
        networks = caller.snapshot.networks
        if networks and not allows(networks, address):  # after the credentials are verified
            raise OutsideNetworks(caller.client_id, method)
    except InvalidClient as error:
        failures.report(error, address, request.path)
        # counted only here, on the failure path: a success never pays for the limit
        if retry_after := state.client_failures.fail(address):
            raise TooManyFailures(retry_after) from None
        if isinstance(error, OutsideNetworks):  # audited (and mailed) unless answered 429
            network_refusals.record(error.client_id, address)
        raise
    request.auth_method = method
    state.usage.touch(caller.client_id, address, previous_secret=caller.previous_secret)
    return caller


class OutsideNetworks(InvalidClient):
    """Right credentials from outside the client's allowed networks: the answer of wrong ones."""

    def __init__(self, client_id: str, method: str) -> None:
        if method == BEARER:
            super().__init__(BEARER_FAILED, "Bearer", reason=NETWORK, client_id=client_id)
        else:
            scheme = "Basic" if method == BASIC else None
            super().__init__(FAILED, scheme, reason=NETWORK, client_id=client_id)


def _verify(clients: ClientCache, method: str, client_id: str, secret: str) -> OAuthClient:
    if method == BEARER:
        claims = access_tokens.verify(secret)
        snapshot = clients.get(claims["client_id"]) if claims else None
        if snapshot is None:
            raise InvalidClient(BEARER_FAILED, "Bearer", reason="bearer_token")
        return OAuthClient(snapshot, tuple(claims["scope"].split()))
    match = clients.authenticate(client_id, secret)
    if match is None:
        reason = clients.failure_reason(client_id, secret)
        scheme = "Basic" if method == BASIC else None
        raise InvalidClient(FAILED, scheme, reason=reason, client_id=client_id)
    snapshot, previous_secret = match
    return OAuthClient(snapshot, previous_secret=previous_secret)


def _verify_assertion(request: OAuthRequest, form_client_id: str) -> OAuthClient:
    """RFC 7523 §3: the assertion of an active key client; a ``client_id`` sent beside it
    must be its ``sub``. Every refusal is the answer of a wrong secret (reason logged)."""
    state = runtime()
    now = utcnow()

    def query_client(client_id: str) -> OAuthClient | None:
        snapshot = state.clients.get(client_id)
        if (
            snapshot is None
            or snapshot.key_set is None
            or not snapshot.is_active(now)
            or (form_client_id and form_client_id != client_id)
        ):
            return None
        return OAuthClient(snapshot)

    issuer = settings().issuer
    audiences = (issuer, f"{issuer}/token", issuer + request.path)
    try:
        return private_key_jwt.authenticate(request, query_client, audiences, state.replays)
    except InvalidClientError as exc:
        log.info("client assertion refused: %s", exc.description)
        raise InvalidClient(FAILED, None, reason=ASSERTION, client_id=form_client_id) from None

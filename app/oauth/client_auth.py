"""Client authentication for /token, /introspect, /revoke and /revocations (RFC 6749 §2.3.1).

Stricter than Authlib's defaults: a malformed ``Authorization`` header is an
error rather than "no credentials"; two methods at once are refused; an
unknown client, a wrong secret and a revoked or expired client all get the
same answer (no enumeration); a malformed secret never reaches the database;
failures are counted per source address (beyond the limit, 429 with Retry-After).
"""

from __future__ import annotations

import base64
import binascii
from urllib.parse import unquote_plus

from authlib.oauth2.rfc6749 import ClientMixin, OAuth2Request

from app.http_policy import client_address
from app.oauth import failures
from app.oauth.errors import InvalidClient, TooManyFailures, invalid_request
from app.services import access_tokens
from app.services.client_cache import ClientSnapshot
from app.services.runtime import runtime

BASIC, POST, BEARER = "client_secret_basic", "client_secret_post", "bearer"
FAILED = (
    "client authentication failed: the client id or secret is wrong, "
    "or the client is revoked or expired"
)


class OAuthClient(ClientMixin):
    """An authenticated caller as Authlib sees it; ``scopes`` are what it may use here."""

    def __init__(self, snapshot: ClientSnapshot, scopes: tuple[str, ...] | None = None) -> None:
        self.snapshot = snapshot
        self.client_id = snapshot.client_id
        self.scopes = scopes if scopes is not None else snapshot.scopes

    def get_client_id(self) -> str:
        return self.client_id

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
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


def _credentials(request: OAuth2Request, methods: list[str]) -> tuple[str, str, str]:
    header = request.headers.get("Authorization")
    form = request.form
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


def authenticate(request: OAuth2Request, methods: list[str]) -> OAuthClient:
    """Authenticate the caller with one of ``methods`` or raise an OAuth error."""
    try:
        method, client_id, secret = _credentials(request, methods)
        caller = _verify(method, client_id, secret)
    except InvalidClient as error:
        address = client_address()
        failures.report(error, address)
        # counted only here, on the failure path: a success never pays for the limit
        if retry_after := runtime().client_failures.fail(address):
            raise TooManyFailures(retry_after) from None
        raise
    request.auth_method = method
    return caller


def _verify(method: str, client_id: str, secret: str) -> OAuthClient:
    state = runtime().clients
    if method == BEARER:
        claims = access_tokens.verify(secret)
        snapshot = state.get(claims["client_id"]) if claims else None
        if snapshot is None:
            raise InvalidClient(
                "the bearer token is invalid, expired or revoked", "Bearer", reason="bearer_token"
            )
        return OAuthClient(snapshot, tuple(claims["scope"].split()))
    snapshot = state.authenticate(client_id, secret)
    if snapshot is None:
        reason = state.failure_reason(client_id, secret)
        scheme = "Basic" if method == BASIC else None
        raise InvalidClient(FAILED, scheme, reason=reason, client_id=client_id)
    return OAuthClient(snapshot)

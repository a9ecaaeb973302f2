"""OAuth error responses beyond Authlib's RFC 6749 set, and safe descriptions."""

from __future__ import annotations

import re

from authlib.oauth2.rfc6749 import errors as rfc6749
from authlib.oauth2.rfc6749.errors import OAuth2Error

_UNSAFE = re.compile(r"[^\x20-\x21\x23-\x5b\x5d-\x7e]")


def safe(text: str, limit: int = 300) -> str:
    """RFC 6749 §5.2 allows only printable ASCII without '"' and '\\' in descriptions."""
    return _UNSAFE.sub("?", text)[:limit]


class InvalidClient(rfc6749.InvalidClientError):
    """``invalid_client``, always 401, challenged in the scheme the caller used.

    RFC 6749 §5.2: ``Basic`` after an ``Authorization`` header (or after no credentials
    at all: it names the scheme to use), ``Bearer`` after a bearer token (RFC 6750 §3),
    and no challenge (``scheme=None``) after credentials sent in the form body.
    ``reason`` (one of ``app.metrics.FAILURE_REASONS``) is for the operator (metrics,
    logs); the answer never shows it. ``client_id`` is the id presented, if any.
    """

    status_code = 401

    def __init__(
        self,
        description: str,
        scheme: str | None = "Basic",
        *,
        reason: str = "malformed",
        client_id: str | None = None,
    ) -> None:
        super().__init__(description=safe(description), status_code=401)
        self.scheme = scheme
        self.reason = reason
        self.client_id = client_id

    def get_headers(self):
        headers = super().get_headers()
        if self.scheme == "Basic":
            return headers
        headers = [(k, v) for k, v in headers if k != "WWW-Authenticate"]
        if self.scheme == "Bearer":
            challenge = f'Bearer error="invalid_token", error_description="{self.description}"'
            headers.append(("WWW-Authenticate", challenge))
        return headers


class UnsupportedTokenType(OAuth2Error):
    """RFC 7009 §2.2.1: the server does not support this ``token_type_hint`` (400)."""

    error = "unsupported_token_type"


class InvalidTarget(OAuth2Error):
    """RFC 8707 §2: the requested resource is invalid or not served here."""

    error = "invalid_target"


class InsufficientScope(OAuth2Error):
    """RFC 6750 §3.1: the caller authenticated but lacks the scope this endpoint needs."""

    error = "insufficient_scope"
    status_code = 403


class TooManyFailures(OAuth2Error):
    """Too many failed client authentications from one address: 429 with Retry-After."""

    error = "too_many_requests"
    status_code = 429

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            description=f"too many failed client authentications from this address; "
            f"retry in {retry_after} seconds"
        )
        self.retry_after = retry_after

    def get_headers(self):
        return super().get_headers() + [("Retry-After", str(self.retry_after))]


def invalid_request(description: str) -> rfc6749.InvalidRequestError:
    return rfc6749.InvalidRequestError(description=safe(description))


def unsupported_grant_type(grant_type: str) -> rfc6749.UnsupportedGrantTypeError:
    error = rfc6749.UnsupportedGrantTypeError(grant_type)
    error.description = safe(
        f"grant_type {grant_type} is not supported; this server supports client_credentials"
    )
    return error

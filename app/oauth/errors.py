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
    """``invalid_client``, always 401 with a challenge in the scheme the caller used.

    ``reason`` says which check refused, for the operator (logs, metrics), never for
    the caller: ``network`` (outside the allowed networks), ``assertion`` (a refused
    client assertion), ``unknown_or_wrong`` otherwise.
    """

    status_code = 401

    def __init__(
        self, description: str, scheme: str = "Basic", reason: str = "unknown_or_wrong"
    ) -> None:
        super().__init__(description=safe(description), status_code=401)
        self.scheme = scheme
        self.reason = reason

    def get_headers(self):
        headers = super().get_headers()
        if self.scheme == "Basic":
            return headers
        # RFC 6750 §3: a rejected bearer token gets a Bearer challenge
        challenge = f'Bearer error="invalid_token", error_description="{self.description}"'
        return [(k, v) for k, v in headers if k != "WWW-Authenticate"] + [
            ("WWW-Authenticate", challenge)
        ]


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

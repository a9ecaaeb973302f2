"""Bearer authentication of the management API (RFC 6750).

Only ``Authorization: Bearer <access token>`` authenticates: ``/api/`` is a machine
path, where no cookie session is ever opened, so a console sign-in gives nothing
here. The token is checked as ``/introspect`` checks one and must carry ``manage``;
the caller then acts as the token's client's owner (``app.services.api_callers``).
"""

from __future__ import annotations

from flask import request

from app.api.validation import ApiError
from app.http_policy import client_address
from app.services import api_callers
from app.services.actors import Actor

CHALLENGE = 'Bearer realm="gatehouse"'


def _bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def authenticate() -> Actor:
    """The caller, or 401 (no valid token) / 403 (a valid token without ``manage``)."""
    token = _bearer_token()
    if token is None:
        # RFC 6750 §3.1: a request without credentials gets a challenge without an error code
        raise ApiError(
            401,
            "unauthorized",
            "Send Authorization: Bearer <access token carrying the scope manage>.",
            headers={"WWW-Authenticate": CHALLENGE},
        )
    try:
        caller = api_callers.manage_caller(token, client_address())
    except api_callers.InsufficientScope:
        raise ApiError(
            403,
            "insufficient_scope",
            "The access token does not carry the scope manage.",
            headers={
                "WWW-Authenticate": f'{CHALLENGE}, error="insufficient_scope", scope="manage"'
            },
        ) from None
    if caller is None:
        raise ApiError(
            401,
            "invalid_token",
            "The access token is invalid, expired or revoked, or its client's owner is "
            "deactivated.",
            headers={"WWW-Authenticate": f'{CHALLENGE}, error="invalid_token"'},
        )
    return caller

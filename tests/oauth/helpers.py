"""Helpers shared by the OAuth endpoint tests: requests, error checks, hand-made JWTs."""

from __future__ import annotations

import base64
import json
import re
import time
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

import jwt
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.extensions import db
from app.models import Client
from app.security import jwts
from app.security.key_pairs import KeyPair, generate_private_key
from tests.conftest import ISSUER, Credentials

FORM = "application/x-www-form-urlencoded"
CC = {"grant_type": "client_credentials"}
#: RFC 6749 §5.2: error_description is %x20-21 / %x23-5B / %x5D-7E
DESCRIPTION_CHARS = re.compile(r"^[\x20-\x21\x23-\x5b\x5d-\x7e]+$")
#: the fields of an active introspection response (RFC 7662 §2.2, RFC 9068 claims)
INTROSPECTION_FIELDS = {
    "active",
    "scope",
    "client_id",
    "sub",
    "aud",
    "iss",
    "exp",
    "iat",
    "jti",
    "token_type",
}
#: RFC 7662 §2.2 members Gatehouse may add beyond those (the JWT's own ``nbf``)
INTROSPECTION_OPTIONAL = {"nbf"}


# -- encoding -------------------------------------------------------------------
def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_json(value: dict[str, Any]) -> str:
    return b64url(json.dumps(value, separators=(",", ":")).encode())


def unverified(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and claims of a JWT, without checking anything."""
    header = jwt.get_unverified_header(token)
    claims = jwt.decode(token, options={"verify_signature": False})
    return header, claims


# -- requests -------------------------------------------------------------------
def request_token(http: FlaskClient, creds: Credentials, method: str = "basic", **params: Any):
    """``POST /token`` with client_credentials plus ``params``, authenticated by ``method``."""
    data: dict[str, Any] = {**CC, **params}
    headers: dict[str, str] = {}
    if method == "basic":
        headers = creds.basic
    elif method == "post":
        data.update(client_id=creds.client_id, client_secret=creds.secret)
    else:  # pragma: no cover - a typo in a test
        raise ValueError(method)
    return http.post("/token", data=data, headers=headers)


def access_token(http: FlaskClient, creds: Credentials, **params: Any) -> str:
    """A token from ``/token``; fails the test if the server refuses."""
    response = request_token(http, creds, **params)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json["access_token"]


def introspect(http: FlaskClient, token: str, caller: Credentials):
    return http.post("/introspect", data={"token": token}, headers=caller.basic)


def is_active(http: FlaskClient, token: str, caller: Credentials) -> bool:
    response = introspect(http, token, caller)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json["active"]


def revoke(http: FlaskClient, token: str, creds: Credentials, **params: Any):
    return http.post("/revoke", data={"token": token, **params}, headers=creds.basic)


# -- assertions -----------------------------------------------------------------
#: ``assert_oauth_error(..., challenge=NO_CHALLENGE)``: the 401 carries no WWW-Authenticate
NO_CHALLENGE = "no challenge"


def assert_oauth_error(
    response, status: int, error: str, challenge: str | None = "Basic"
) -> dict[str, Any]:
    """An RFC 6749 §5.2 error body: JSON, the code, and a description a person can act on.

    A 401 ``invalid_client`` carries a ``WWW-Authenticate`` challenge of scheme ``challenge``
    (none at all with ``NO_CHALLENGE``; ``None`` leaves the header unchecked).
    """
    text = response.get_data(as_text=True)
    assert response.status_code == status, text
    assert response.mimetype == "application/json", text
    body = response.json
    assert body["error"] == error, body
    description = body.get("error_description")
    assert isinstance(description, str) and description.strip(), body
    assert DESCRIPTION_CHARS.match(description), f"unsafe error_description: {description!r}"
    if status == 401 and error == "invalid_client" and challenge == NO_CHALLENGE:
        assert "WWW-Authenticate" not in response.headers, response.headers
    elif status == 401 and error == "invalid_client" and challenge:
        assert response.headers.get("WWW-Authenticate", "").startswith(challenge), response.headers
    return body


# -- database state -------------------------------------------------------------
def set_expiry_in_past(app: Flask, client_id: str, days: int = 1) -> None:
    """Make a client expired in our real database (the API refuses past dates)."""
    with app.app_context():
        client = db.session.scalars(select(Client).where(Client.client_id == client_id)).one()
        client.expires_on = datetime.now(UTC).date() - timedelta(days=days)
        db.session.commit()
        app.extensions["gatehouse"].clients.forget(client_id)


# -- hand-made tokens -----------------------------------------------------------
def signing_key(app: Flask) -> KeyPair:
    return app.extensions["gatehouse"].keys.signing_key()


def claims_for(client_id: str, scope: str = "jobs", **overrides: Any) -> dict[str, Any]:
    """Claims as Gatehouse issues them (valid now for ten minutes), with ``overrides``."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "sub": client_id,
        "client_id": client_id,
        "aud": ISSUER,
        "scope": scope,
        "iat": now,
        "nbf": now,
        "exp": now + 600,
        "jti": b64url(now.to_bytes(8, "big")) + "-handmade",
    }
    claims.update(overrides)
    return claims


def sign_with_app_key(app: Flask, claims: dict[str, Any]) -> str:
    return jwts.sign(claims, signing_key(app))


def sign_with_header(key: KeyPair, claims: dict[str, Any], **header: Any) -> str:
    """Sign with ``key`` but choose the JOSE header fields (``typ``, ``kid``; None drops one)."""
    fields = {"typ": "at+jwt", "kid": key.kid, **header}
    fields = {name: value for name, value in fields.items() if value is not None}
    return jwt.encode(claims, key.private_key, algorithm=key.alg, headers=fields)


@lru_cache(maxsize=1)
def foreign_rsa_key() -> Any:
    """An RSA key this server has never seen (generated once per session)."""
    return generate_private_key("RS256")

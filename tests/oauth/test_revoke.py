"""POST /revoke: RFC 7009 (a client revokes its own access tokens)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import RevocationEvent, RevokedToken
from app.security.key_pairs import KeyPair
from app.services import clients
from app.services.actors import Actor
from tests.conftest import Credentials
from tests.oauth.helpers import (
    access_token,
    assert_oauth_error,
    claims_for,
    foreign_rsa_key,
    introspect,
    is_active,
    revoke,
    sign_with_app_key,
    sign_with_header,
    unverified,
)


def _feed(http, spy: Credentials) -> list[dict]:
    response = http.get("/revocations", headers=spy.basic)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json["events"]


@pytest.mark.parametrize("method", ["basic", "post"])
def test_client_revokes_its_own_token(http, factory, method):
    creds = factory.client()
    spy = factory.introspector()
    token = access_token(http, creds)
    other = access_token(http, creds)
    jti = unverified(token)[1]["jti"]
    assert is_active(http, token, spy)

    if method == "basic":
        response = revoke(http, token, creds)
    else:
        data = {"token": token, "client_id": creds.client_id, "client_secret": creds.secret}
        response = http.post("/revoke", data=data)
    assert response.status_code == 200, response.get_data(as_text=True)

    assert introspect(http, token, spy).json == {"active": False}
    assert is_active(http, other, spy)  # only that one token
    events = [e for e in _feed(http, spy) if e["type"] == "token"]
    assert len(events) == 1
    assert events[0]["jti"] == jti
    assert events[0]["client_id"] == creds.client_id
    assert isinstance(events[0]["revoked_at"], int)


def test_revoked_token_cannot_call_introspect(http, factory):
    """A bearer caller's own token, once revoked, no longer authenticates it."""
    spy = factory.introspector()
    spy_token = access_token(http, spy)
    target = access_token(http, factory.client())
    assert revoke(http, spy_token, spy).status_code == 200
    response = http.post(
        "/introspect", data={"token": target}, headers={"Authorization": f"Bearer {spy_token}"}
    )
    assert_oauth_error(response, 401, "invalid_client", challenge="Bearer")


def test_revoking_twice_is_fine_and_recorded_once(app, http, factory):
    creds = factory.client()
    token = access_token(http, creds)
    assert revoke(http, token, creds).status_code == 200
    assert revoke(http, token, creds).status_code == 200
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(RevokedToken)) == 1
        assert db.session.scalar(select(func.count()).select_from(RevocationEvent)) == 1


def test_token_type_hint_access_token_is_accepted(http, factory):
    creds = factory.client()
    spy = factory.introspector()
    token = access_token(http, creds)
    response = revoke(http, token, creds, token_type_hint="access_token")
    assert response.status_code == 200
    assert introspect(http, token, spy).json == {"active": False}


@pytest.mark.parametrize(
    "token",
    ["garbage", "a.b.c", "...", "x" * 10_000, "unknown-signed", "expired-own", "revoked-client"],
)
def test_invalid_or_unknown_token_is_200(app, http, factory, token):
    creds = factory.client()
    if token == "unknown-signed":
        key = KeyPair("unknown-kid-2", "RS256", foreign_rsa_key())
        token = sign_with_header(key, claims_for(creds.client_id))
    elif token == "expired-own":
        old = claims_for(creds.client_id, exp=1_000_000_000, iat=999_999_000, nbf=999_999_000)
        token = sign_with_app_key(app, old)
    elif token == "revoked-client":
        other = factory.client()
        token = access_token(http, other)
        with app.app_context():
            clients.revoke_client(Actor.cli(), other.client_id)
    response = revoke(http, token, creds)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    with app.app_context():  # nothing recorded for a token that was not valid
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(RevocationEvent)
                .where(RevocationEvent.type == "token")
            )
            == 0
        )


def test_valid_token_of_another_client_is_refused_and_stays_active(app, http, factory):
    owner, thief = factory.client(), factory.client()
    spy = factory.introspector()
    token = access_token(http, owner)
    response = revoke(http, token, thief)
    assert 400 <= response.status_code < 500, response.get_data(as_text=True)
    assert response.json["error"]
    assert response.json.get("error_description")
    assert is_active(http, token, spy)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(RevokedToken)) == 0


@pytest.mark.parametrize(
    ("data", "query", "status", "error"),
    [
        ({}, "", 400, "invalid_request"),
        ({"token_type_hint": "access_token"}, "", 400, "invalid_request"),
        ({"token": "{token}", "token_type_hint": "id_token"}, "", 400, "unsupported_token_type"),
        ({"token": "{token}", "token_type_hint": "x" * 5000}, "", 400, "unsupported_token_type"),
        ({"token": ["{token}", "{token}"]}, "", 400, "invalid_request"),
        ({"token": "{token}"}, "token=x", 400, "invalid_request"),
    ],
    ids=["missing-token", "hint-only", "unknown-hint", "long-hint", "repeated-token", "query"],
)
def test_bad_revocation_requests(http, factory, data, query, status, error):
    creds = factory.client()
    spy = factory.introspector()
    token = access_token(http, creds)

    def fill(value):
        if isinstance(value, list):
            return [fill(item) for item in value]
        return token if value == "{token}" else value

    path = "/revoke" + (f"?{query}" if query else "")
    response = http.post(path, data={k: fill(v) for k, v in data.items()}, headers=creds.basic)
    assert_oauth_error(response, status, error)
    assert is_active(http, token, spy)  # a refused request revokes nothing


@pytest.mark.parametrize(
    "how", ["none", "wrong-secret", "unknown-client", "malformed-basic", "bearer", "revoked"]
)
def test_bad_credentials_are_401(app, http, factory, how):
    creds = factory.client()
    spy = factory.introspector()
    token = access_token(http, creds)
    headers: dict[str, str] = {}
    if how == "wrong-secret":
        headers = Credentials(creds.client_id, factory.client().secret).basic
    elif how == "unknown-client":
        headers = Credentials("D" * 24, creds.secret).basic
    elif how == "malformed-basic":
        headers = {"Authorization": "Basic ###"}
    elif how == "bearer":  # /revoke takes client credentials, not a bearer token
        headers = {"Authorization": f"Bearer {token}"}
    elif how == "revoked":
        other = factory.client()
        with app.app_context():
            clients.revoke_client(Actor.cli(), other.client_id)
        headers = other.basic
    response = http.post("/revoke", data={"token": token}, headers=headers)
    assert_oauth_error(response, 401, "invalid_client")
    assert is_active(http, token, spy)

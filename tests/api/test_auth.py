"""Bearer authentication (RFC 6750): a ``manage`` token acting as its client's owner.

The token is checked as ``/introspect`` checks one; no token or a bad one is 401 with a
``Bearer`` challenge (naming ``invalid_token`` when one was presented), a valid token
without ``manage`` is 403 ``insufficient_scope``, and a console sign-in never counts.
"""

from __future__ import annotations

import time

import jwt
import pytest
from flask import Flask

from app import create_app
from app.extensions import db
from app.services import clients, offboarding, users
from app.services.actors import Actor
from tests.api.conftest import Caller, assert_api_error, bearer_token
from tests.console.conftest import Console
from tests.helpers import ADMIN, MEMBER
from tests.oauth.helpers import claims_for, foreign_rsa_key, sign_with_app_key, sign_with_header

PLAIN = 'Bearer realm="gatehouse"'
INVALID = 'Bearer realm="gatehouse", error="invalid_token"'


def assert_unauthorized(response, challenge: str) -> None:
    assert_api_error(response, 401)
    assert response.headers["WWW-Authenticate"] == challenge


@pytest.mark.parametrize(
    "header",
    [None, "", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Token abc", "bearer"],
    ids=["none", "empty", "scheme-only", "scheme-space", "basic", "other-scheme", "lower-only"],
)
def test_no_bearer_token_is_401_with_a_plain_challenge(http, people, header):
    headers = {"Authorization": header} if header is not None else {}
    response = http.get("/api/v1/clients", headers=headers)
    assert_unauthorized(response, PLAIN)
    assert response.json["error"] == "unauthorized"


def _bad_tokens(app: Flask, client_id: str) -> dict[str, str]:
    now = int(time.time())
    key = app.extensions["gatehouse"].keys.signing_key()
    claims = claims_for(client_id, scope="manage")
    return {
        "garbage": "not-a-jwt",
        "expired": sign_with_app_key(
            app, {**claims, "iat": now - 900, "nbf": now - 900, "exp": now - 300}
        ),
        "foreign-issuer": sign_with_app_key(app, {**claims, "iss": "https://elsewhere.example"}),
        "unknown-kid": sign_with_header(key, claims, kid="nobody"),
        "foreign-key": jwt.encode(
            claims, foreign_rsa_key(), algorithm="RS256", headers={"kid": key.kid, "typ": "at+jwt"}
        ),
        "alg-none": jwt.encode(claims, None, algorithm="none"),
        "unknown-client": sign_with_app_key(app, claims_for("A" * 24, scope="manage")),
    }


@pytest.mark.parametrize(
    "kind",
    [
        "garbage",
        "expired",
        "foreign-issuer",
        "unknown-kid",
        "foreign-key",
        "alg-none",
        "unknown-client",
    ],
)
def test_a_bad_token_is_401_invalid_token(app, http, admin, kind):
    token = _bad_tokens(app, admin.creds.client_id)[kind]
    response = http.get("/api/v1/clients", headers={"Authorization": f"Bearer {token}"})
    assert_unauthorized(response, INVALID)
    assert response.json["error"] == "invalid_token"


def test_the_same_hand_made_token_with_good_claims_works(app, http, admin):
    """The table above can fail: a token signed like those, with nothing wrong, is accepted."""
    token = sign_with_app_key(app, claims_for(admin.creds.client_id, scope="manage"))
    assert (
        http.get("/api/v1/clients", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    )


def test_a_token_without_manage_is_403_insufficient_scope(http, factory, people):
    creds = factory.client(owner=ADMIN, scopes=["jobs", "introspect"])
    caller = Caller(http, bearer_token(http, creds))
    response = caller.get("/clients")
    assert_api_error(response, 403, "insufficient_scope")
    assert response.headers["WWW-Authenticate"] == (
        'Bearer realm="gatehouse", error="insufficient_scope", scope="manage"'
    )


def test_a_token_asked_without_manage_is_403_though_its_client_holds_it(http, factory, people):
    creds = factory.client(owner=ADMIN, scopes=["jobs", "manage"])
    caller = Caller(http, bearer_token(http, creds, scope="jobs"))
    assert_api_error(caller.get("/clients"), 403, "insufficient_scope")
    assert Caller(http, bearer_token(http, creds)).get("/clients").status_code == 200


def test_a_revoked_clients_token_stops_at_once(app, admin):
    assert admin.get("/clients").status_code == 200
    with app.app_context():
        clients.revoke_client(Actor.cli(), admin.creds.client_id)
    assert_unauthorized(admin.get("/clients"), INVALID)


def test_a_revocation_elsewhere_is_seen_within_a_second(config, app, admin):
    """Another worker or instance on the same database revokes: the 1-second bound."""
    other = create_app(config)
    try:
        assert admin.get("/clients").status_code == 200  # this worker has a snapshot now
        with other.app_context():
            clients.revoke_client(Actor.cli(), admin.creds.client_id)
        start = time.monotonic()
        while admin.get("/clients").status_code == 200:
            assert time.monotonic() - start < 1.0, "still accepted a second after the revocation"
            time.sleep(0.05)
    finally:
        with other.app_context():
            db.engine.dispose()


def test_a_deactivated_owners_token_stops_at_once(config, app, member):
    """Deactivating the owner (even without revoking the client) ends the token's power."""
    assert member.get("/clients").status_code == 200
    other = create_app(config)
    try:
        with other.app_context():
            users.deactivate(Actor.cli(), MEMBER)
            db.session.commit()
    finally:
        with other.app_context():
            db.engine.dispose()
    assert_unauthorized(member.get("/clients"), INVALID)


def test_offboarding_the_owner_stops_the_token(app, member):
    with app.app_context():
        offboarding.deactivate_user(Actor.cli(), MEMBER)
    assert_unauthorized(member.get("/clients"), INVALID)


def test_a_token_revoked_by_its_client_stops(http, admin):
    response = http.post("/revoke", data={"token": admin.token}, headers=admin.creds.basic)
    assert response.status_code == 200
    assert_unauthorized(admin.get("/clients"), INVALID)


def test_narrowing_away_manage_kills_tokens_issued_before(app, http, factory, people):
    creds = factory.client(owner=ADMIN, scopes=["jobs", "manage"])
    caller = Caller(http, bearer_token(http, creds))
    assert caller.get("/clients").status_code == 200
    with app.app_context():
        clients.update_client(Actor.cli(), creds.client_id, scopes=["jobs"])
    assert_unauthorized(caller.get("/clients"), INVALID)


def test_a_console_session_never_authorizes_the_api(app, http, people, member):
    app.config["WTF_CSRF_ENABLED"] = True
    console = Console(http)
    console.login(ADMIN)
    assert console.page("/tokens")  # the session works for the console
    response = http.get("/api/v1/clients")  # same cookie jar, no bearer token
    assert_unauthorized(response, PLAIN)
    assert "Set-Cookie" not in response.headers
    assert_api_error(http.post("/api/v1/clients", json={"name": "x"}), 401)


def test_a_token_in_the_query_string_is_not_accepted(http, admin):
    response = http.get("/api/v1/clients", query_string={"access_token": admin.token})
    assert_unauthorized(response, PLAIN)


def test_the_documents_need_no_token(http):
    assert http.get("/api/v1/openapi.json").status_code == 200
    assert http.get("/api/v1/reference").status_code == 200

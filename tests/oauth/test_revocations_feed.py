"""GET /revocations: the revocation feed for offline verifiers."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import update

from app.extensions import db
from app.models import RevocationEvent
from app.models.types import utcnow
from app.services import clients
from app.services.actors import Actor
from tests.conftest import Credentials
from tests.oauth.helpers import access_token, assert_oauth_error, revoke, unverified


def _feed(http, spy: Credentials, since: str | None = None):
    path = "/revocations" + (f"?since={since}" if since is not None else "")
    response = http.get(path, headers=spy.basic)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json


# -- authentication, as for /introspect ------------------------------------------------
@pytest.mark.parametrize(
    "how", ["none", "wrong-secret", "unknown-client", "malformed-basic", "garbage-bearer"]
)
def test_bad_or_missing_credentials_are_401(http, factory, how):
    spy = factory.introspector()
    headers = {
        "none": {},
        "wrong-secret": Credentials(spy.client_id, factory.client().secret).basic,
        "unknown-client": Credentials("E" * 24, spy.secret).basic,
        "malformed-basic": {"Authorization": "Basic ^^^"},
        "garbage-bearer": {"Authorization": "Bearer x.y.z"},
    }[how]
    response = http.get("/revocations", headers=headers)
    challenge = "Bearer" if how == "garbage-bearer" else "Basic"
    body = assert_oauth_error(response, 401, "invalid_client", challenge=challenge)
    assert "events" not in body


@pytest.mark.parametrize("how", ["basic", "bearer"])
def test_caller_without_introspect_is_403(http, factory, how):
    caller = factory.client(scopes=["jobs"])
    headers = (
        caller.basic
        if how == "basic"
        else {"Authorization": f"Bearer {access_token(http, caller)}"}
    )
    body = assert_oauth_error(http.get("/revocations", headers=headers), 403, "insufficient_scope")
    assert "events" not in body


def test_bearer_token_carrying_introspect_may_read(http, factory):
    token = access_token(http, factory.introspector())
    response = http.get("/revocations", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.json
    assert response.json["events"] == []


def test_empty_feed(http, factory):
    response = http.get("/revocations", headers=factory.introspector().basic)
    assert response.status_code == 200
    assert "no-store" in response.headers.get("Cache-Control", "")
    body = response.json
    assert body["events"] == []
    assert isinstance(body["cursor"], str) and body["cursor"]


# -- events -------------------------------------------------------------------------------
def test_client_revocation_event(app, http, factory):
    creds, spy = factory.client(), factory.introspector()
    before = int(time.time())
    with app.app_context():
        clients.revoke_client(Actor.cli(), creds.client_id)
    after = int(time.time())
    events = _feed(http, spy)["events"]
    assert len(events) == 1
    event = events[0]
    assert event["type"] == "client"
    assert event["client_id"] == creds.client_id
    assert before - 1 <= event["revoked_at"] <= after + 1
    assert "jti" not in event
    assert "not_before" not in event


def test_token_revocation_event(http, factory):
    creds, spy = factory.client(), factory.introspector()
    token = access_token(http, creds)
    assert revoke(http, token, creds).status_code == 200
    events = _feed(http, spy)["events"]
    assert len(events) == 1
    assert events[0]["type"] == "token"
    assert events[0]["client_id"] == creds.client_id
    assert events[0]["jti"] == unverified(token)[1]["jti"]
    assert isinstance(events[0]["revoked_at"], int)


def test_scope_narrowing_event_has_not_before(app, http, factory):
    creds, spy = factory.client(scopes=["jobs", "candidates"]), factory.introspector()
    before = int(time.time())
    with app.app_context():
        clients.update_client(Actor.cli(), creds.client_id, scopes=["jobs"])
    events = _feed(http, spy)["events"]
    assert len(events) == 1
    event = events[0]
    assert event["client_id"] == creds.client_id
    assert before - 1 <= event["not_before"] <= int(time.time()) + 1
    assert event["scope"] == "jobs"  # what the client kept, for offline verifiers
    assert "jti" not in event


def test_widening_scopes_adds_no_event(app, http, factory):
    creds, spy = factory.client(scopes=["jobs"]), factory.introspector()
    with app.app_context():
        clients.update_client(Actor.cli(), creds.client_id, scopes=["jobs", "candidates"])
    assert _feed(http, spy)["events"] == []


# -- cursor ---------------------------------------------------------------------------------
def test_since_cursor_returns_only_newer_events(app, http, factory):
    first, second, spy = factory.client(), factory.client(), factory.introspector()
    with app.app_context():
        clients.revoke_client(Actor.cli(), first.client_id)
    page = _feed(http, spy)
    assert [e["client_id"] for e in page["events"]] == [first.client_id]
    cursor = page["cursor"]

    again = _feed(http, spy, since=cursor)
    assert again["events"] == []
    assert again["cursor"] == cursor

    with app.app_context():
        clients.revoke_client(Actor.cli(), second.client_id)
    newer = _feed(http, spy, since=cursor)
    assert [e["client_id"] for e in newer["events"]] == [second.client_id]
    assert newer["cursor"] != cursor
    assert _feed(http, spy, since=newer["cursor"])["events"] == []
    # the whole feed still has both
    assert len(_feed(http, spy)["events"]) == 2


def test_since_zero_returns_everything_in_order(app, http, factory):
    a, b, spy = factory.client(), factory.client(), factory.introspector()
    with app.app_context():
        clients.revoke_client(Actor.cli(), a.client_id)
        clients.revoke_client(Actor.cli(), b.client_id)
    events = _feed(http, spy, since="0")["events"]
    assert [e["client_id"] for e in events] == [a.client_id, b.client_id]


def test_without_since_old_events_that_cannot_matter_are_left_out(app, http, factory):
    """Without ``since``: only events younger than the longest token lifetime."""
    old, recent, spy = factory.client(), factory.client(), factory.introspector()
    with app.app_context():
        clients.revoke_client(Actor.cli(), old.client_id)
        clients.revoke_client(Actor.cli(), recent.client_id)
        db.session.execute(
            update(RevocationEvent)
            .where(RevocationEvent.client_id == old.client_id)
            .values(revoked_at=utcnow() - timedelta(days=2))
        )
        db.session.commit()
    assert [e["client_id"] for e in _feed(http, spy)["events"]] == [recent.client_id]
    # with a cursor from the start, the old one is still delivered
    assert len(_feed(http, spy, since="0")["events"]) == 2


@pytest.mark.parametrize(
    "since",
    ["abc", "-1", "1.5", "1e3", "9" * 40, "%20", "0x10", "1;DROP TABLE x", "<script>"]
    # digits of other scripts: str.isdigit accepts them, a cursor is ASCII digits only
    + ["\u00b2", "\u0661", "\uff11", "1\u00b2", "\U0001d7d9"],
    ids=["letters", "negative", "decimal", "exponent", "huge", "space", "hex", "sql", "script"]
    + ["superscript-two", "arabic-indic-one", "fullwidth-one", "one-superscript", "math-one"],
)
def test_bad_since_is_invalid_request(http, factory, since):
    spy = factory.introspector()
    response = http.get("/revocations", query_string={"since": since}, headers=spy.basic)
    assert_oauth_error(response, 400, "invalid_request")


def test_empty_since_is_invalid_request(http, factory):
    response = http.get("/revocations?since=", headers=factory.introspector().basic)
    assert_oauth_error(response, 400, "invalid_request")

"""The fast path of /token and /introspect: plain requests answered as the full app answers
them, the rest passed on.

Each answer of the fast path is compared with the full app's answer to the same
request (``FastPath.next``, the Flask app behind it); every request that is not
of the plain shape must reach the full app with its body as it was sent.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask, g
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from werkzeug.test import EnvironBuilder

from app.extensions import db
from app.instrumentation import ROUTE
from app.models import Client
from app.oauth.fast_path import FastPath
from app.services import access_tokens
from tests.conftest import Credentials
from tests.helpers import basic_auth, basic_header
from tests.oauth.helpers import CC, FORM, access_token, unverified


def fast_path(app: Flask) -> FastPath:
    """The fast path among the app's WSGI layers (proxies and instrumentation wrap it)."""
    layer: Any = app.wsgi_app
    while not isinstance(layer, FastPath):
        layer = layer.app
    return layer


def environ(
    body: str | bytes = "grant_type=client_credentials",
    headers: dict[str, str] | None = None,
    path: str = "/token",
    **options: Any,
) -> dict[str, Any]:
    options.setdefault("method", "POST")
    options.setdefault("content_type", FORM)
    return EnvironBuilder(path=path, data=body, headers=headers, **options).get_environ()


def call(wsgi_app: Any, env: dict[str, Any]) -> tuple[str, dict[str, str], bytes]:
    """One WSGI call on ``env`` itself (werkzeug's ``run_wsgi_app`` would copy it)."""
    answer: list[Any] = []
    body = wsgi_app(env, lambda status, headers, exc_info=None: answer.extend((status, headers)))
    try:
        return answer[0], dict(answer[1]), b"".join(body)
    finally:
        getattr(body, "close", lambda: None)()


def both(app: Flask, body: str, headers: dict[str, str], path: str = "/token"):
    """(fast answer, full app's answer) to the same request; the fast one must be its own."""
    fast = fast_path(app)
    env = environ(body, headers, path)
    answered = call(fast, env)
    assert env.get(ROUTE) == path, "the fast path passed a plain request on"
    return answered, call(fast.next, environ(body, headers, path))


def test_a_token_is_answered_with_the_full_app_s_status_headers_and_fields(app, factory):
    creds = factory.client(scopes=["jobs", "candidates"])
    for body in ("grant_type=client_credentials", "grant_type=client_credentials&scope=jobs"):
        (status, headers, data), (full_status, full_headers, full_data) = both(
            app, body, creds.basic
        )
        assert status == full_status == "200 OK"
        assert headers.keys() == full_headers.keys()
        assert {k: v for k, v in headers.items() if k != "Content-Length"} == {
            k: v for k, v in full_headers.items() if k != "Content-Length"
        }
        token, full_token = json.loads(data), json.loads(full_data)
        assert int(headers["Content-Length"]) == len(data)
        assert token.keys() == full_token.keys()
        assert (token["token_type"], token["scope"]) == (
            full_token["token_type"],
            full_token["scope"],
        )
        assert abs(token["expires_in"] - full_token["expires_in"]) <= 1
        header, claims = unverified(token["access_token"])
        _, full_claims = unverified(full_token["access_token"])
        assert header["typ"] == "at+jwt"
        assert claims.keys() == full_claims.keys()
        assert claims["client_id"] == creds.client_id


REFUSALS = {
    "wrong secret": lambda creds, other: (CC, basic_auth(creds.client_id, other.secret)),
    "unknown client": lambda creds, other: (CC, basic_auth("A" * 24, creds.secret)),
    "malformed Basic": lambda creds, other: (CC, basic_header(b"no colon here")),
    "not base64": lambda creds, other: (CC, {"Authorization": "Basic %%%"}),
    "bearer at /token": lambda creds, other: (CC, {"Authorization": "Bearer abc"}),
    "no credentials": lambda creds, other: (CC, {}),
    "scope not held": lambda creds, other: ({**CC, "scope": "payroll"}, creds.basic),
    "unknown resource": lambda creds, other: ({**CC, "resource": "https://x.test"}, creds.basic),
    "header and form": lambda creds, other: ({**CC, "client_id": creds.client_id}, creds.basic),
    "form secret wrong": lambda creds, other: (
        {**CC, "client_id": creds.client_id, "client_secret": other.secret},
        {},
    ),
}


@pytest.mark.parametrize("case", REFUSALS)
def test_a_refusal_is_the_full_app_s_refusal(app, factory, case):
    creds, other = factory.client(), factory.client()
    form, headers = REFUSALS[case](creds, other)
    body = "&".join(f"{k}={v}" for k, v in form.items())
    (status, headers_, data), (full_status, full_headers, full_data) = both(app, body, headers)
    assert status == full_status and status[:3] in ("400", "401")
    assert headers_ == full_headers
    assert json.loads(data) == json.loads(full_data)


#: case -> (body, headers) of an /introspect request, from (token, its client, the caller,
#: the caller's own access token)
INTROSPECTIONS = {
    "active": lambda t, creds, caller, own: (f"token={t}", caller.basic),
    "active, with a hint": lambda t, creds, caller, own: (
        f"token={t}&token_type_hint=access_token",
        caller.basic,
    ),
    "active, form credentials": lambda t, creds, caller, own: (
        f"token={t}&client_id={caller.client_id}&client_secret={caller.secret}",
        {},
    ),
    "active, bearer caller": lambda t, creds, caller, own: (
        f"token={t}",
        {"Authorization": f"Bearer {own}"},
    ),
    "inactive": lambda t, creds, caller, own: ("token=not.a.token", caller.basic),
    "no token": lambda t, creds, caller, own: ("token_type_hint=access_token", caller.basic),
    "unknown hint": lambda t, creds, caller, own: (f"token={t}&token_type_hint=saml", caller.basic),
    "caller lacks introspect": lambda t, creds, caller, own: (f"token={t}", creds.basic),
    "wrong secret": lambda t, creds, caller, own: (
        f"token={t}",
        basic_auth(caller.client_id, creds.secret),
    ),
    "no credentials": lambda t, creds, caller, own: (f"token={t}", {}),
}


@pytest.mark.parametrize("case", INTROSPECTIONS)
def test_an_introspection_is_the_full_app_s_answer(app, factory, case):
    caller, creds = factory.introspector(), factory.client()
    http = app.test_client()
    token, own = access_token(http, creds), access_token(http, caller)
    body, headers = INTROSPECTIONS[case](token, creds, caller, own)
    (status, headers_, data), (full_status, full_headers, full_data) = both(
        app, body, headers, "/introspect"
    )
    assert (status, headers_) == (full_status, full_headers)
    assert json.loads(data) == json.loads(full_data)
    if case.startswith("active"):
        assert json.loads(data)["active"] is True


PASSED_ON = {
    "query string": dict(query_string="scope=jobs"),
    "GET": dict(method="GET"),
    "another path": dict(path="/token/"),
    "content type with parameters": dict(content_type=FORM + "; charset=utf-8"),
    "JSON": dict(content_type="application/json", body='{"grant_type": "client_credentials"}'),
    "grant type repeated": dict(body="grant_type=client_credentials&grant_type=client_credentials"),
    "resource repeated": dict(body="grant_type=client_credentials&resource=a&resource=b"),
    "another grant": dict(body="grant_type=password"),
    "no grant type": dict(body="scope=jobs"),
    "not UTF-8": dict(body=b"grant_type=client_credentials&scope=\xff"),
    "introspect, query string": dict(path="/introspect", body="token=x", query_string="a=b"),
    "introspect, GET": dict(path="/introspect", body="token=x", method="GET"),
    "introspect, token repeated": dict(path="/introspect", body="token=x&token=y"),
    "introspect, JSON": dict(path="/introspect", body='{"token": "x"}', content_type="a/json"),
}


@pytest.mark.parametrize("case", PASSED_ON)
def test_other_requests_reach_the_full_app_with_their_body(app, case):
    options = dict(PASSED_ON[case])
    body = options.pop("body", "grant_type=client_credentials")
    path = options.pop("path", "/token")
    env = EnvironBuilder(
        path=path,
        data=body,
        method=options.pop("method", "POST"),
        content_type=options.pop("content_type", FORM),
        **options,
    ).get_environ()
    assert fast_path(app).plain_form(env) is None
    sent = body.encode() if isinstance(body, str) else body
    assert env["wsgi.input"].read() == sent


def test_a_declined_body_is_read_again_by_the_full_app(http, factory):
    creds = factory.client()
    response = http.post(
        "/token",
        data="grant_type=client_credentials&grant_type=client_credentials",
        headers={**creds.basic, "Content-Type": FORM},
    )
    assert response.status_code == 400
    assert "grant_type is repeated" in response.json["error_description"]


def test_an_oversized_chunked_or_oddly_framed_body_is_never_read(app):
    fast = fast_path(app)
    oversized = environ("grant_type=client_credentials")
    oversized["CONTENT_LENGTH"] = str(fast.max_body + 1)
    chunked = environ("grant_type=client_credentials")
    del chunked["CONTENT_LENGTH"]
    chunked["HTTP_TRANSFER_ENCODING"] = "chunked"
    both_framings = environ("grant_type=client_credentials")
    both_framings["HTTP_TRANSFER_ENCODING"] = "chunked"
    superscript = environ("grant_type=client_credentials")
    superscript["CONTENT_LENGTH"] = "²"  # str.isdigit() says yes, int() says no
    for env in (oversized, chunked, both_framings, superscript):
        assert fast.plain_form(env) is None
        assert env["wsgi.input"].read() == b"grant_type=client_credentials"


def test_a_body_shorter_than_declared_goes_to_the_full_app(app):
    env = environ("grant_type=client_credentials")
    env["CONTENT_LENGTH"] = "100"  # the client went away after 29 bytes
    assert fast_path(app).plain_form(env) is None
    assert env["wsgi.input"].read() == b"grant_type=client_credentials"


def test_plain_http_is_passed_on_when_the_issuer_is_https(config, factory):
    from app import create_app

    https_app = create_app({**config, "GATEHOUSE_ISSUER": "https://auth.example.com"})
    env = environ(headers=basic_auth("A" * 24, "x"))
    assert fast_path(https_app).plain_form(env) is None
    env["wsgi.url_scheme"] = "https"
    assert fast_path(https_app).plain_form(env) is not None


def test_an_unexpected_exception_is_answered_by_the_app_s_error_handlers(app, factory, monkeypatch):
    creds: Credentials = factory.client()
    fast = fast_path(app)
    ran_again: list[bool] = []

    def outage(environ, form):
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr(fast, "answer", outage)
    monkeypatch.setattr(fast, "next", lambda *args: ran_again.append(True))
    status, headers, data = call(fast, environ(headers=creds.basic))
    assert status.startswith("503")
    assert json.loads(data)["error"] == "temporarily_unavailable"
    assert headers["X-Content-Type-Options"] == "nosniff"  # the app's after_request hooks ran
    assert not ran_again  # the request is not run a second time


def test_the_usage_write_of_an_error_answer_still_happens_after_it_is_sent(
    app, factory, monkeypatch
):
    creds = factory.client()

    def outage(*args, **kwargs):  # after the client authenticated: its use is due
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr(access_tokens, "issue", outage)
    answer: list[str] = []
    body = app.wsgi_app(environ(headers=creds.basic), lambda status, *_: answer.append(status))
    assert answer[0].startswith("503")
    assert last_used(app, creds.client_id) is None
    body.close()
    assert last_used(app, creds.client_id) is not None


def test_the_usage_write_waits_for_the_response_to_be_sent(app, factory):
    creds = factory.client()
    body = app.wsgi_app(environ(headers=creds.basic), lambda status, headers, exc_info=None: None)
    assert last_used(app, creds.client_id) is None
    body.close()  # the server has sent the response
    assert last_used(app, creds.client_id) is not None


def last_used(app: Flask, client_id: str):
    with app.app_context():
        query = select(Client.last_used_at).where(Client.client_id == client_id)
        return db.session.scalars(query).one()


def test_a_database_read_gives_its_connection_back_with_the_answer(app, factory):
    """A client not cached yet is read from the database in the thread's standing app
    context: the answer closes that session, so no connection stays checked out."""
    creds: Credentials = factory.client()
    with app.app_context():
        assert db.engine.pool.checkedout() == 0
    status, _, _ = call(fast_path(app), environ(headers=creds.basic))
    assert status.startswith("200")
    with app.app_context():
        assert db.engine.pool.checkedout() == 0


def test_each_request_finds_g_empty(app, factory, monkeypatch):
    """Flask's ``g`` lives for one request, in the standing context as in a new one."""
    creds: Credentials = factory.client()
    fast = fast_path(app)
    seen: list[dict[str, Any]] = []
    answer = fast.answer

    def noting(environ, form):
        seen.append(dict(vars(g)))
        g.caller = form.get("grant_type")
        return answer(environ, form)

    monkeypatch.setattr(fast, "answer", noting)
    for _ in range(2):
        assert call(fast, environ(headers=creds.basic))[0].startswith("200")
    assert seen == [{}, {}]


def test_an_unknown_app_context_teardown_is_not_skipped_silently(config, factory):
    """The standing context runs the database session's teardown when it is needed; any other
    teardown would be skipped, so a second one makes the fast path refuse to run."""
    from app import create_app

    app = create_app(config)
    app.teardown_appcontext(lambda error: None)
    status, _, data = call(fast_path(app), environ())
    assert status.startswith("500")

"""POST /token: RFC 6749 §4.4 client credentials, §5 responses, RFC 9068 JWTs, bad input."""

from __future__ import annotations

import base64
import json
import logging
import time
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent, Client
from app.security.secrets import checksum, is_well_formed
from app.services import clients
from app.services.actors import Actor
from tests.conftest import ISSUER, Credentials
from tests.helpers import basic_header
from tests.oauth.helpers import (
    CC,
    FORM,
    NO_CHALLENGE,
    access_token,
    assert_oauth_error,
    introspect,
    is_active,
    request_token,
    set_expiry_in_past,
    signing_key,
    unverified,
)

RESOURCE_A = "https://api.example.com/jobs"
RESOURCE_B = "https://api.example.com/people"
UNKNOWN_CLIENT_ID = "A" * 24  # plausible shape, never issued
#: a well-formed secret (prefix, length, valid checksum) that belongs to nobody
OTHER_SECRET = "gts_" + "x" * 43 + checksum("gts_" + "x" * 43)


def _jwk_for(http, kid: str) -> dict:
    keys = http.get("/.well-known/jwks.json").json["keys"]
    return next(key for key in keys if key["kid"] == kid)


# -- success ---------------------------------------------------------------------
@pytest.mark.parametrize("method", ["basic", "post"])
def test_token_response_shape(http, factory, method):
    creds = factory.client(scopes=["jobs", "candidates"])
    response = request_token(http, creds, method=method)
    assert response.status_code == 200, response.json
    assert response.mimetype == "application/json"
    assert "no-store" in response.headers["Cache-Control"]
    body = response.json
    assert set(body) == {"access_token", "token_type", "expires_in", "scope"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 600
    assert set(body["scope"].split()) == {"jobs", "candidates"}
    assert isinstance(body["access_token"], str) and body["access_token"].count(".") == 2


def test_token_is_an_rfc9068_jwt(app, http, factory):
    creds = factory.client(scopes=["jobs", "candidates"])
    before = int(time.time())
    body = request_token(http, creds).json
    after = int(time.time())
    header, claims = unverified(body["access_token"])

    assert header["typ"] == "at+jwt"
    key = signing_key(app)
    assert header["alg"] == key.alg == "RS256"
    assert header["kid"] == key.kid
    assert set(claims) == {
        "iss",
        "sub",
        "client_id",
        "aud",
        "scope",
        "iat",
        "nbf",
        "exp",
        "jti",
    }
    assert claims["iss"] == ISSUER
    assert claims["sub"] == claims["client_id"] == creds.client_id
    assert claims["aud"] == ISSUER and isinstance(claims["aud"], str)
    assert claims["scope"] == body["scope"]
    assert before <= claims["iat"] <= after
    assert claims["nbf"] == claims["iat"]
    assert claims["exp"] == claims["iat"] + body["expires_in"]
    assert isinstance(claims["jti"], str) and len(claims["jti"]) >= 16
    # nothing secret travels in the token
    assert creds.secret not in json.dumps(claims)

    # the signature checks out against the published key
    jwk = jwt.PyJWK(_jwk_for(http, header["kid"]))
    verified = jwt.decode(
        body["access_token"], jwk.key, algorithms=[header["alg"]], audience=ISSUER, issuer=ISSUER
    )
    assert verified == claims


def test_every_token_has_a_fresh_jti(http, factory):
    creds = factory.client()
    jtis = {unverified(access_token(http, creds))[1]["jti"] for _ in range(3)}
    assert len(jtis) == 3


def test_form_content_type_with_charset_is_accepted(http, factory):
    creds = factory.client()
    response = http.post(
        "/token",
        data="grant_type=client_credentials",
        headers={**creds.basic, "Content-Type": f"{FORM}; charset=UTF-8"},
    )
    assert response.status_code == 200, response.json


def test_basic_credentials_are_form_urlencoded_then_decoded(http, factory):
    """RFC 6749 §2.3.1: id and secret are form-urlencoded before base64 (no-op for ours)."""
    creds = factory.client()
    response = http.post(
        "/token", data=CC, headers=basic_header(f"{creds.client_id}:{creds.secret}")
    )
    assert response.status_code == 200, response.json


# -- scope: a subset of the client's, all of them when none is asked -----------------------
def test_scope_subset(http, factory):
    creds = factory.client(scopes=["jobs", "candidates", "contacts"])
    body = request_token(http, creds, scope="jobs contacts").json
    assert set(body["scope"].split()) == {"jobs", "contacts"}
    assert unverified(body["access_token"])[1]["scope"] == body["scope"]


def test_no_scope_gets_all_of_the_clients_scopes(http, factory):
    creds = factory.client(scopes=["jobs", "candidates", "contacts"])
    body = request_token(http, creds).json
    assert set(body["scope"].split()) == {"jobs", "candidates", "contacts"}


@pytest.mark.parametrize(
    "scope",
    ["employees", "jobs employees", "no-such-service", "manage", "introspect"],
    ids=["lacking", "one-of-two-lacking", "unknown", "system-manage", "system-introspect"],
)
def test_scope_the_client_lacks_is_invalid_scope(http, factory, scope):
    creds = factory.client(scopes=["jobs", "candidates"])
    body = assert_oauth_error(request_token(http, creds, scope=scope), 400, "invalid_scope")
    assert "access_token" not in body


# RFC 6749 §3.3: scope tokens are separated by a space (%x20) and nothing else
@pytest.mark.parametrize(
    "separator",
    ["\t", "\n", "\r\n", "\x0b", "\x0c", "\u00a0", "\u2003", "\u0085", "\u3000", "+"],
    ids=[
        "tab",
        "newline",
        "crlf",
        "vtab",
        "formfeed",
        "nbsp",
        "em-space",
        "nel",
        "ideographic",
        "plus",
    ],
)
def test_scopes_separated_by_anything_but_a_space_are_invalid_scope(http, factory, separator):
    creds = factory.client(scopes=["jobs", "candidates"])
    response = request_token(http, creds, scope=f"jobs{separator}candidates")
    assert "access_token" not in assert_oauth_error(response, 400, "invalid_scope")
    # whitespace alone is not "no scope asked": it names no valid scope
    alone = request_token(http, creds, scope=separator)
    assert "access_token" not in assert_oauth_error(alone, 400, "invalid_scope")


def test_extra_spaces_between_scopes_are_tolerated(http, factory):
    creds = factory.client(scopes=["jobs", "candidates"])
    body = request_token(http, creds, scope=" jobs  candidates ").json
    assert body["scope"] == "jobs candidates"


@pytest.mark.parametrize("path", ["/token", "/introspect", "/revoke"])
def test_a_failed_client_secret_post_gets_no_basic_challenge(http, factory, path):
    """RFC 6749 §5.2: WWW-Authenticate matches the scheme the client used: none for the form."""
    creds = factory.client(scopes=["introspect"])
    wrong = {"client_id": creds.client_id, "client_secret": OTHER_SECRET}
    form = {**CC, **wrong} if path == "/token" else {"token": "x", **wrong}
    assert_oauth_error(http.post(path, data=form), 401, "invalid_client", NO_CHALLENGE)
    # the same mistake over HTTP Basic is challenged in Basic
    basic = basic_header(f"{creds.client_id}:{OTHER_SECRET}")
    form = CC if path == "/token" else {"token": "x"}
    assert_oauth_error(http.post(path, data=form, headers=basic), 401, "invalid_client", "Basic")


# -- resource (RFC 8707) -----------------------------------------------------------
def test_configured_resource_becomes_the_audience(config, request):
    config["GATEHOUSE_RESOURCES"] = f"{RESOURCE_A},{RESOURCE_B}"
    http, factory = request.getfixturevalue("http"), request.getfixturevalue("factory")
    creds = factory.client()
    spy = factory.introspector()

    token = access_token(http, creds, resource=RESOURCE_B)
    assert unverified(token)[1]["aud"] == RESOURCE_B
    result = introspect(http, token, spy).json
    assert result["active"] is True and result["aud"] == RESOURCE_B

    default = access_token(http, creds)
    assert unverified(default)[1]["aud"] == ISSUER  # no resource: the default audience


@pytest.mark.parametrize(
    "resources",
    [
        ["https://evil.example.com/"],
        [RESOURCE_A, RESOURCE_B],
        [RESOURCE_A, RESOURCE_A],
        ["not a uri"],
    ],
    ids=["unknown", "two-resources", "same-twice", "not-a-uri"],
)
def test_bad_resource_is_invalid_target(config, request, resources):
    config["GATEHOUSE_RESOURCES"] = f"{RESOURCE_A},{RESOURCE_B}"
    http, factory = request.getfixturevalue("http"), request.getfixturevalue("factory")
    creds = factory.client()
    response = http.post("/token", data={**CC, "resource": resources}, headers=creds.basic)
    assert_oauth_error(response, 400, "invalid_target")


# -- lifetime: never past the end of the client's expires_on -------------------------------
def test_token_ttl_setting_is_honoured(config, request):
    config["GATEHOUSE_TOKEN_TTL"] = 120
    http, factory = request.getfixturevalue("http"), request.getfixturevalue("factory")
    body = request_token(http, factory.client()).json
    _, claims = unverified(body["access_token"])
    assert body["expires_in"] == 120
    assert claims["exp"] - claims["iat"] == 120


def test_exp_is_capped_by_the_clients_expiry(config, request):
    config["GATEHOUSE_TOKEN_TTL"] = 86400  # a day: always longer than what is left of today
    http, factory = request.getfixturevalue("http"), request.getfixturevalue("factory")
    today = datetime.now(UTC).date()
    creds = factory.client(expires_on=today)
    body = request_token(http, creds).json
    _, claims = unverified(body["access_token"])
    midnight = int(
        datetime.combine(today + timedelta(days=1), datetime.min.time(), UTC).timestamp()
    )
    assert claims["exp"] <= midnight
    assert claims["exp"] == midnight
    assert body["expires_in"] == claims["exp"] - claims["iat"]
    assert 0 < body["expires_in"] <= 86400


# -- client state ---------------------------------------------------------------------
def test_revoked_client_is_invalid_client(app, http, factory):
    creds = factory.client()
    assert request_token(http, creds).status_code == 200
    with app.app_context():
        clients.revoke_client(Actor.cli(), creds.client_id)
    assert_oauth_error(request_token(http, creds), 401, "invalid_client")
    post = request_token(http, creds, method="post")
    assert_oauth_error(post, 401, "invalid_client", NO_CHALLENGE)


def test_expired_client_is_invalid_client(app, http, factory):
    creds = factory.client()
    set_expiry_in_past(app, creds.client_id)
    assert_oauth_error(request_token(http, creds), 401, "invalid_client")


def test_rotated_secret_with_grace_keeps_the_old_one_working(app, http, factory):
    creds = factory.client()
    with app.app_context():
        issued = clients.rotate_secret(Actor.cli(), creds.client_id, grace_seconds=300)
    new = type(creds)(creds.client_id, issued.secret)
    assert request_token(http, creds).status_code == 200
    assert request_token(http, new).status_code == 200


def test_rotated_secret_without_grace_kills_the_old_one(app, http, factory):
    creds = factory.client()
    assert request_token(http, creds).status_code == 200  # cached snapshot in this process
    with app.app_context():
        issued = clients.rotate_secret(Actor.cli(), creds.client_id)
    new = type(creds)(creds.client_id, issued.secret)
    assert_oauth_error(request_token(http, creds), 401, "invalid_client")
    assert request_token(http, new).status_code == 200


def test_tokens_are_not_stored_and_use_is_recorded(app, http, factory):
    creds = factory.client()
    request_token(http, creds).close()  # the use is written once the response is sent
    with app.app_context():
        client = db.session.scalars(select(Client).where(Client.client_id == creds.client_id)).one()
        assert client.last_used_at is not None


# -- errors: RFC 6749 §5.2 and every bad input ------------------------------------------------
def _auth(value: str) -> dict[str, str]:
    return {"Authorization": value}


def _case(name, status, error, *, data=None, headers=None, query="", body=None, ctype=None):
    return pytest.param(
        {"data": data, "headers": headers, "query": query, "body": body, "ctype": ctype},
        status,
        error,
        id=name,
    )


GOOD = "{good}"  # placeholders filled with the test client's credentials
ID, SECRET = "{id}", "{secret}"
BAD_CHECKSUM = "{badsum}"  # the client's secret with one checksum character changed
NO_PREFIX = "{noprefix}"  # the client's secret without its gts_ prefix


def _placeholders(creds) -> dict[str, str]:
    last = "1" if creds.secret[-1] == "0" else "0"
    return {
        ID: creds.client_id,
        SECRET: creds.secret,
        BAD_CHECKSUM: creds.secret[:-1] + last,
        NO_PREFIX: creds.secret.removeprefix("gts_"),
    }


# fmt: off
ERROR_CASES = [
    # grant_type
    _case("missing-grant-type", 400, "invalid_request", data={}, headers=GOOD),
    _case("empty-grant-type", 400, "invalid_request", data={"grant_type": ""}, headers=GOOD),
    _case("authorization-code", 400, "unsupported_grant_type",
          data={"grant_type": "authorization_code", "code": "x"}, headers=GOOD),
    _case("password-grant", 400, "unsupported_grant_type",
          data={"grant_type": "password", "username": "a", "password": "b"}, headers=GOOD),
    _case("refresh-token-grant", 400, "unsupported_grant_type",
          data={"grant_type": "refresh_token", "refresh_token": "x"}, headers=GOOD),
    _case("made-up-grant", 400, "unsupported_grant_type",
          data={"grant_type": "urn:example:nope"}, headers=GOOD),
    # malformed Authorization header
    _case("basic-bad-base64", 401, "invalid_client", data=CC,
          headers=_auth("Basic !!!not-base64!!!")),
    _case("basic-truncated-base64", 401, "invalid_client", data=CC,
          headers=_auth("Basic YWJjZA=")),
    _case("basic-no-colon", 401, "invalid_client", data=CC,
          headers=basic_header(b"justaclientid")),
    _case("basic-empty-secret", 401, "invalid_client", data=CC,
          headers=basic_header(f"{ID}:")),
    _case("basic-empty-id", 401, "invalid_client", data=CC,
          headers=basic_header(f":{SECRET}")),
    _case("basic-non-utf8", 401, "invalid_client", data=CC,
          headers=basic_header(b"\xff\xfe\xfd:\xc3\x28")),
    _case("basic-latin1-in-header", 401, "invalid_client", data=CC,
          headers=_auth("Basic \xff\xfe")),
    _case("basic-scheme-only", 401, "invalid_client", data=CC,
          headers=_auth("Basic")),
    _case("basic-scheme-and-space", 401, "invalid_client", data=CC,
          headers=_auth("Basic ")),
    _case("bearer-scheme", 401, "invalid_client", data=CC,
          headers=_auth("Bearer abc.def.ghi")),
    _case("digest-scheme", 401, "invalid_client", data=CC,
          headers=_auth('Digest username="x", realm="y"')),
    _case("empty-header", 401, "invalid_client", data=CC, headers=_auth("")),
    # missing or incomplete credentials
    _case("no-credentials", 401, "invalid_client", data=CC),
    _case("post-id-without-secret", 401, "invalid_client", data={**CC, "client_id": ID}),
    _case("post-secret-without-id", 401, "invalid_client", data={**CC, "client_secret": SECRET}),
    _case("header-and-form-credentials", 400, "invalid_request",
          data={**CC, "client_id": ID, "client_secret": SECRET}, headers=GOOD),
    # wrong credentials
    _case("unknown-client", 401, "invalid_client", data=CC,
          headers=basic_header(f"{UNKNOWN_CLIENT_ID}:{OTHER_SECRET}")),
    _case("wrong-secret", 401, "invalid_client", data=CC,
          headers=basic_header(f"{ID}:{OTHER_SECRET}")),
    _case("wrong-secret-post", 401, "invalid_client",
          data={**CC, "client_id": ID, "client_secret": OTHER_SECRET}),
    _case("secret-bad-checksum", 401, "invalid_client", data=CC,
          headers=basic_header(f"{ID}:{BAD_CHECKSUM}")),
    _case("secret-without-prefix", 401, "invalid_client", data=CC,
          headers=basic_header(f"{ID}:{NO_PREFIX}")),
    # not a form body
    _case("json-body", 400, "invalid_request", body=json.dumps(CC), ctype="application/json",
          headers=GOOD),
    _case("text-body", 400, "invalid_request", body="grant_type=client_credentials",
          ctype="text/plain", headers=GOOD),
    _case("multipart-body", 400, "invalid_request",
          body=b'--b\r\nContent-Disposition: form-data; name="grant_type"\r\n\r\n'
               b"client_credentials\r\n--b--\r\n",
          ctype="multipart/form-data; boundary=b", headers=GOOD),
    # query string
    _case("credentials-in-query", 400, "invalid_request", data=CC,
          query=f"client_id={ID}&client_secret={SECRET}"),
    _case("grant-type-in-query", 400, "invalid_request", data={}, headers=GOOD,
          query="grant_type=client_credentials"),
    _case("scope-in-query", 400, "invalid_request", data=CC, headers=GOOD, query="scope=jobs"),
    _case("any-param-in-query", 400, "invalid_request", data=CC, headers=GOOD, query="x=1"),
    # repeated parameters
    _case("repeated-grant-type", 400, "invalid_request",
          data={"grant_type": ["client_credentials", "client_credentials"]}, headers=GOOD),
    _case("repeated-scope", 400, "invalid_request",
          data={**CC, "scope": ["jobs", "jobs"]}, headers=GOOD),
    _case("repeated-client-id", 400, "invalid_request",
          data={**CC, "client_id": [ID, ID], "client_secret": SECRET}),
    # scope
    _case("scope-lacking", 400, "invalid_scope", data={**CC, "scope": "employees"}, headers=GOOD),
    _case("scope-unknown", 400, "invalid_scope", data={**CC, "scope": "nope"}, headers=GOOD),
    # over-long fields: a clear error, never a 500
    _case("long-client-id-post", 401, "invalid_client",
          data={**CC, "client_id": "c" * 10_000, "client_secret": SECRET}),
    _case("long-client-id-basic", 401, "invalid_client", data=CC,
          headers=basic_header(b"c" * 10_000 + b":" + SECRET.encode())),
    _case("long-secret", 401, "invalid_client",
          data={**CC, "client_id": ID, "client_secret": "gts_" + "s" * 10_000}),
    _case("long-scope", 400, "invalid_scope", data={**CC, "scope": "s" * 10_000}, headers=GOOD),
    _case("many-scopes", 400, "invalid_scope",
          data={**CC, "scope": " ".join(f"s{i}" for i in range(3000))}, headers=GOOD),
    _case("long-grant-type", 400, "unsupported_grant_type",
          data={"grant_type": "g" * 10_000}, headers=GOOD),
    _case("long-resource", 400, "invalid_target",
          data={**CC, "resource": "https://x.example/" + "r" * 10_000}, headers=GOOD),
    # SQL-looking and script-looking text
    _case("sql-client-id", 401, "invalid_client",
          data={**CC, "client_id": "' OR '1'='1' --", "client_secret": SECRET}),
    _case("sql-secret", 401, "invalid_client",
          data={**CC, "client_id": ID, "client_secret": "x' OR 1=1; DROP TABLE clients; --"}),
    _case("sql-scope", 400, "invalid_scope",
          data={**CC, "scope": "jobs'; DROP TABLE clients; --"}, headers=GOOD),
    _case("script-scope", 400, "invalid_scope",
          data={**CC, "scope": "<script>alert(1)</script>"}, headers=GOOD),
    _case("script-grant-type", 400, "unsupported_grant_type",
          data={"grant_type": '<img src=x onerror="alert(1)">'}, headers=GOOD),
    _case("script-resource", 400, "invalid_target",
          data={**CC, "resource": "javascript:alert(1)"}, headers=GOOD),
    _case("non-utf8-form-value", 400, "invalid_scope",
          body=b"grant_type=client_credentials&scope=%ff%fe%fd", ctype=FORM, headers=GOOD),
    _case("non-utf8-form-body", 400, "invalid_request",
          body=b"grant_type=client_credentials&scope=\xff\xfe", ctype=FORM, headers=GOOD),
    _case("nul-in-scope", 400, "invalid_scope", data={**CC, "scope": "jobs\x00"}, headers=GOOD),
]
# fmt: on


def _fill(value, creds):
    if isinstance(value, str):
        for placeholder, real in _placeholders(creds).items():
            value = value.replace(placeholder, real)
        return value
    if isinstance(value, bytes):
        for placeholder, real in _placeholders(creds).items():
            value = value.replace(placeholder.encode(), real.encode())
        return value
    if isinstance(value, list):
        return [_fill(item, creds) for item in value]
    if isinstance(value, dict):
        return {key: _fill(item, creds) for key, item in value.items()}
    return value


def _refill_basic(headers: dict[str, str], creds) -> dict[str, str]:
    """Re-encode Basic headers whose decoded text holds the placeholders."""
    value = headers.get("Authorization", "")
    if not value.startswith("Basic "):
        return headers
    try:
        raw = base64.b64decode(value[6:], validate=True)
    except ValueError:
        return headers
    filled = _fill(raw, creds)
    return headers if filled == raw else basic_header(filled)


def _challenge(spec) -> str:
    """RFC 6749 §5.2: a 401 challenges in the scheme the client tried: Basic after an
    Authorization header (or no credentials at all: Basic is how to send them), none after
    credentials in the form body (client_secret_post)."""
    in_form = "client_id" in (spec["data"] or {}) or "client_secret" in (spec["data"] or {})
    return NO_CHALLENGE if in_form and not spec["headers"] else "Basic"


def _send(http, creds, spec):
    headers = spec["headers"]
    if headers == GOOD:
        headers = creds.basic
    elif headers:
        headers = _refill_basic(headers, creds)
    path = "/token" + (f"?{_fill(spec['query'], creds)}" if spec["query"] else "")
    if spec["body"] is not None:
        body = spec["body"]
        body = body.encode() if isinstance(body, str) else body
        return http.post(
            path, data=body, headers={**(headers or {}), "Content-Type": spec["ctype"]}
        )
    return http.post(path, data=_fill(spec["data"], creds), headers=headers or {})


@pytest.mark.parametrize(("spec", "status", "error"), ERROR_CASES)
def test_token_errors(app, http, factory, spec, status, error):
    creds = factory.client(scopes=["jobs", "candidates"])
    with app.app_context():
        rows_before = db.session.scalar(select(func.count()).select_from(Client))
        audit_before = db.session.scalar(select(func.count()).select_from(AuditEvent))
    body = assert_oauth_error(_send(http, creds, spec), status, error, _challenge(spec))
    assert "access_token" not in body
    with app.app_context():  # nothing half-written, the database still answers
        assert db.session.scalar(select(func.count()).select_from(Client)) == rows_before
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == audit_before
    # the client's own, correct request still works afterwards
    assert request_token(http, creds).status_code == 200


def test_body_over_64_kib_is_413_json(http, factory):
    creds = factory.client()
    big = {**CC, "padding": "p" * (64 * 1024)}
    response = http.post("/token", data=big, headers=creds.basic)
    assert response.status_code == 413
    assert response.mimetype == "application/json"
    assert response.json["error"]
    assert response.json["error_description"]


def test_body_just_under_64_kib_is_read(http, factory):
    creds = factory.client()
    filler = "p" * (60 * 1024)
    response = http.post("/token", data={**CC, "padding": filler}, headers=creds.basic)
    assert response.status_code == 200, response.get_data(as_text=True)


def test_get_is_not_allowed(http):
    response = http.get("/token")
    assert response.status_code == 405
    assert response.mimetype == "application/json"
    assert response.json["error"]


@pytest.mark.parametrize("method", ["basic", "post"])
def test_unknown_client_and_wrong_secret_answer_identically(http, factory, method):
    creds = factory.client()
    unknown = type(creds)(UNKNOWN_CLIENT_ID, OTHER_SECRET)
    wrong = type(creds)(creds.client_id, OTHER_SECRET)
    first = request_token(http, unknown, method=method)
    second = request_token(http, wrong, method=method)
    assert first.status_code == second.status_code == 401
    assert first.get_data() == second.get_data()
    assert first.headers.get("WWW-Authenticate") == second.headers.get("WWW-Authenticate")
    assert first.json["error"] == "invalid_client"


def test_revoked_expired_and_unknown_clients_do_not_reveal_which(app, http, factory):
    """No enumeration: a revoked or expired client's id gets the unknown client's answer."""
    revoked, expired = factory.client(), factory.client()
    with app.app_context():
        clients.revoke_client(Actor.cli(), revoked.client_id)
    set_expiry_in_past(app, expired.client_id)
    unknown = request_token(http, type(revoked)(UNKNOWN_CLIENT_ID, OTHER_SECRET))
    for creds in (revoked, expired):
        response = request_token(http, creds)
        assert response.status_code == unknown.status_code == 401
        assert response.get_data() == unknown.get_data()


def test_token_of_a_rejected_request_is_not_issued_after_sql_text(app, http, factory):
    """SQL-looking text is data: the clients table is intact and tokens still work."""
    creds = factory.client()
    http.post(
        "/token",
        data={**CC, "client_id": "x'; DELETE FROM clients; --", "client_secret": OTHER_SECRET},
    )
    token = access_token(http, creds)
    assert is_active(http, token, factory.introspector())


def test_secret_placeholders_are_what_the_cases_claim(factory):
    """Guards the table above: the 'wrong' secrets are well-formed, the malformed ones are not."""
    creds = factory.client()
    values = _placeholders(creds)
    assert is_well_formed(OTHER_SECRET) and is_well_formed(values[SECRET])
    assert not is_well_formed(values[BAD_CHECKSUM])
    assert not is_well_formed(values[NO_PREFIX])


def test_secrets_never_reach_the_logs(http, factory, caplog):
    """Secrets never reach a log, not at DEBUG either, whether right, wrong or malformed."""
    creds = factory.client()
    wrong = factory.client().secret
    caplog.set_level(logging.DEBUG)
    ours = logging.getLogger("app")  # it does not propagate to the root logger caplog watches
    ours.addHandler(caplog.handler)
    level, ours.level = ours.level, logging.DEBUG
    try:
        for secret in (creds.secret, wrong, creds.secret[:-1] + "x"):
            http.post("/token", data=CC, headers=Credentials(creds.client_id, secret).basic)
            http.post("/token", data=CC | {"client_id": creds.client_id, "client_secret": secret})
    finally:
        ours.removeHandler(caplog.handler)
        ours.level = level
    logged = "\n".join(record.getMessage() for record in caplog.records)
    for secret in (creds.secret, wrong):
        assert secret not in logged and secret[4:20] not in logged


def test_the_host_header_changes_nothing_in_the_token(http, factory):
    """``iss`` and ``aud`` are the configured issuer whatever ``Host`` the request names."""
    creds = factory.client()
    for host in ("evil.example", "127.0.0.1:9", "[::1]", "UPPER.example"):
        response = http.post("/token", data=CC, headers={**creds.basic, "Host": host})
        assert response.status_code == 200, (host, response.json)
        claims = jwt.decode(response.json["access_token"], options={"verify_signature": False})
        assert claims["iss"] == ISSUER and claims["aud"] == ISSUER, host

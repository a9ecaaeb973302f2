"""POST /introspect: RFC 7662; token validity, revocation and narrowing, bad input."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from cryptography.hazmat.primitives import serialization
from flask import Flask
from flask.testing import FlaskClient

from app.security import jwts
from app.security.key_pairs import KeyPair
from app.services import clients
from app.services.actors import Actor
from tests.conftest import ISSUER, Credentials
from tests.oauth.helpers import (
    CC,
    INTROSPECTION_FIELDS,
    INTROSPECTION_OPTIONAL,
    access_token,
    assert_oauth_error,
    b64url,
    b64url_json,
    claims_for,
    foreign_rsa_key,
    introspect,
    is_active,
    revoke,
    set_expiry_in_past,
    sign_with_app_key,
    sign_with_header,
    signing_key,
    unverified,
)


# -- active tokens -------------------------------------------------------------------
def test_active_token_fields(http, factory):
    creds = factory.client(scopes=["jobs", "candidates"])
    token = access_token(http, creds)
    _, claims = unverified(token)
    response = introspect(http, token, factory.introspector())
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    body = response.json
    assert set(body) >= INTROSPECTION_FIELDS, body
    assert set(body) - INTROSPECTION_FIELDS <= INTROSPECTION_OPTIONAL, body
    assert body["active"] is True
    assert body["token_type"] == "Bearer"
    assert set(body["scope"].split()) == {"jobs", "candidates"}
    assert body["client_id"] == body["sub"] == creds.client_id
    assert body["aud"] == ISSUER
    assert body["iss"] == ISSUER
    for claim in ("exp", "iat", "jti", "scope"):
        assert body[claim] == claims[claim], claim
    if "nbf" in body:
        assert body["nbf"] == claims["nbf"]


def test_caller_with_client_secret_post(http, factory):
    token = access_token(http, factory.client())
    spy = factory.introspector()
    response = http.post(
        "/introspect",
        data={"token": token, "client_id": spy.client_id, "client_secret": spy.secret},
    )
    assert response.status_code == 200, response.json
    assert response.json["active"] is True


def test_caller_with_bearer_token_carrying_introspect(http, factory):
    token = access_token(http, factory.client())
    caller_token = access_token(http, factory.introspector())
    response = http.post(
        "/introspect", data={"token": token}, headers={"Authorization": f"Bearer {caller_token}"}
    )
    assert response.status_code == 200, response.json
    assert response.json["active"] is True


def test_token_hint_is_accepted(http, factory):
    token = access_token(http, factory.client())
    spy = factory.introspector()
    response = http.post(
        "/introspect", data={"token": token, "token_type_hint": "access_token"}, headers=spy.basic
    )
    assert response.status_code == 200 and response.json["active"] is True


def test_introspection_is_not_cached(http, factory):
    token = access_token(http, factory.client())
    response = introspect(http, token, factory.introspector())
    assert "no-store" in response.headers.get("Cache-Control", "")


# -- caller authentication ----------------------------------------------------------
def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize(
    "how",
    [
        "none",
        "wrong-secret",
        "unknown-client",
        "malformed-basic",
        "garbage-bearer",
        "empty-bearer",
        "revoked-caller-basic",
        "revoked-caller-bearer",
        "expired-bearer",
    ],
)
def test_bad_or_missing_caller_credentials_are_401(app, http, factory, how):
    token = access_token(http, factory.client())
    spy = factory.introspector()
    spy_token = access_token(http, spy)
    headers: dict[str, str] = {}
    if how == "wrong-secret":
        headers = Credentials(spy.client_id, factory.client().secret).basic
    elif how == "unknown-client":
        headers = Credentials("B" * 24, spy.secret).basic
    elif how == "malformed-basic":
        headers = {"Authorization": "Basic %%%"}
    elif how == "garbage-bearer":
        headers = _bearer("not.a.token")
    elif how == "empty-bearer":
        headers = {"Authorization": "Bearer "}
    elif how.startswith("revoked-caller"):
        with app.app_context():
            clients.revoke_client(Actor.cli(), spy.client_id)
        headers = spy.basic if how.endswith("basic") else _bearer(spy_token)
    elif how == "expired-bearer":
        now = int(time.time())
        old = claims_for(spy.client_id, "introspect", iat=now - 700, nbf=now - 700, exp=now - 100)
        headers = _bearer(sign_with_app_key(app, old))
    response = http.post("/introspect", data={"token": token}, headers=headers)
    challenge = None if "bearer" in how else "Basic"  # see the Bearer challenge test below
    body = assert_oauth_error(response, 401, "invalid_client", challenge=challenge)
    assert "active" not in body


def test_bad_bearer_caller_gets_a_bearer_challenge(http, factory):
    """RFC 6749 §5.2: a 401 challenge matches the scheme the caller used (RFC 6750 §3)."""
    token = access_token(http, factory.client())
    response = http.post("/introspect", data={"token": token}, headers=_bearer("not.a.token"))
    assert_oauth_error(response, 401, "invalid_client", challenge="Bearer")


@pytest.mark.parametrize("how", ["basic", "post", "bearer", "bearer-narrowed-scope"])
def test_caller_without_introspect_is_403(http, factory, how):
    token = access_token(http, factory.client())
    caller = factory.client(scopes=["jobs"])
    if how == "basic":
        response = http.post("/introspect", data={"token": token}, headers=caller.basic)
    elif how == "post":
        data = {"token": token, "client_id": caller.client_id, "client_secret": caller.secret}
        response = http.post("/introspect", data=data)
    elif how == "bearer":
        response = http.post(
            "/introspect", data={"token": token}, headers=_bearer(access_token(http, caller))
        )
    else:  # a client that holds introspect, but its bearer token was asked without it
        both = factory.client(scopes=["jobs", "introspect"])
        narrow = access_token(http, both, scope="jobs")
        response = http.post("/introspect", data={"token": token}, headers=_bearer(narrow))
    body = assert_oauth_error(response, 403, "insufficient_scope")
    assert "active" not in body


@pytest.mark.parametrize(
    ("data", "query", "error"),
    [
        ({}, "", "invalid_request"),
        ({"token_type_hint": "access_token"}, "", "invalid_request"),
        ({"token": ["a", "b"]}, "", "invalid_request"),
        ({"token": "x"}, "token=y", "invalid_request"),
    ],
    ids=["missing-token", "hint-only", "repeated-token", "query-string"],
)
def test_bad_introspection_requests(http, factory, data, query, error):
    spy = factory.introspector()
    path = "/introspect" + (f"?{query}" if query else "")
    assert_oauth_error(http.post(path, data=data, headers=spy.basic), 400, error)


def test_unknown_token_type_hint_is_a_clear_answer(http, factory):
    """RFC 7662 does not define unsupported_token_type (RFC 7009 does): either ignore the
    hint and answer, or refuse it with RFC 7009's 400 error; never a server error."""
    spy = factory.introspector()
    token = access_token(http, factory.client())
    data = {"token": token, "token_type_hint": "id_token"}
    response = http.post("/introspect", data=data, headers=spy.basic)
    if response.status_code == 200:
        assert response.json["active"] is True
    else:
        assert_oauth_error(response, 400, "unsupported_token_type")


def test_a_body_that_is_not_utf8_is_invalid_request(http, factory):
    spy = factory.introspector()
    body = b"token=" + access_token(http, factory.client()).encode() + b"\xff"
    headers = {**spy.basic, "Content-Type": "application/x-www-form-urlencoded"}
    response = http.post("/introspect", data=body, headers=headers)
    assert_oauth_error(response, 400, "invalid_request")


def test_json_body_is_invalid_request(http, factory):
    spy = factory.introspector()
    response = http.post("/introspect", json={"token": "x"}, headers=spy.basic)
    assert_oauth_error(response, 400, "invalid_request")


# -- forged and invalid tokens: exactly {"active": false} ----------------------------------
@dataclass
class Ctx:
    app: Flask
    http: FlaskClient
    factory: object
    creds: Credentials
    spy: Credentials

    @property
    def key(self) -> KeyPair:
        return signing_key(self.app)

    def claims(self, **overrides):
        return claims_for(self.creds.client_id, "jobs candidates", **overrides)

    def issued(self) -> str:
        """A real token from /token, checked active before whatever a case does to it."""
        token = access_token(self.http, self.creds)
        assert is_active(self.http, token, self.spy)
        return token


def _alg_none(ctx: Ctx) -> str:
    header = {"alg": "none", "typ": "at+jwt", "kid": ctx.key.kid}
    return f"{b64url_json(header)}.{b64url_json(ctx.claims())}."


def _alg_none_with_signature(ctx: Ctx) -> str:
    real = ctx.issued()
    signature = real.rsplit(".", 1)[1]
    header = {"alg": "none", "typ": "at+jwt", "kid": ctx.key.kid}
    return f"{b64url_json(header)}.{b64url_json(ctx.claims())}.{signature}"


def _hs256_with_public_key(ctx: Ctx) -> str:
    """The classic RS/HS confusion: HMAC keyed with the published public key PEM."""
    pem = ctx.key.public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = {"alg": "HS256", "typ": "at+jwt", "kid": ctx.key.kid}
    signing_input = f"{b64url_json(header)}.{b64url_json(ctx.claims())}"
    mac = hmac.new(pem, signing_input.encode("ascii"), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(mac)}"


def _unknown_kid(ctx: Ctx) -> str:
    return sign_with_header(KeyPair("unknown-kid-1", "RS256", foreign_rsa_key()), ctx.claims())


def _known_kid_foreign_key(ctx: Ctx) -> str:
    """A bad signature: the right kid, another key."""
    return sign_with_header(KeyPair(ctx.key.kid, "RS256", foreign_rsa_key()), ctx.claims())


def _no_kid(ctx: Ctx) -> str:
    return sign_with_header(ctx.key, ctx.claims(), kid=None)


def _foreign_issuer(ctx: Ctx) -> str:
    return sign_with_app_key(ctx.app, ctx.claims(iss="https://evil.example.com"))


def _expired(ctx: Ctx) -> str:
    now = int(time.time())
    return sign_with_app_key(ctx.app, ctx.claims(iat=now - 700, nbf=now - 700, exp=now - 100))


def _expired_one_second_ago(ctx: Ctx) -> str:
    """Introspection allows no clock leeway."""
    now = int(time.time())
    return sign_with_app_key(ctx.app, ctx.claims(iat=now - 600, nbf=now - 600, exp=now - 1))


def _nbf_in_future(ctx: Ctx) -> str:
    now = int(time.time())
    return sign_with_app_key(ctx.app, ctx.claims(nbf=now + 300, exp=now + 900))


def _missing_exp(ctx: Ctx) -> str:
    claims = ctx.claims()
    del claims["exp"]
    return sign_with_app_key(ctx.app, claims)


def _numeric_date(claim: str, kind: type) -> Callable[[Ctx], str]:
    """RFC 7519 §2: a NumericDate is a JSON number; this server only ever issues integers."""

    def make(ctx: Ctx) -> str:
        claims = ctx.claims()
        value = claims[claim] + (0.5 if kind is float else 0)
        claims[claim] = kind(value) if kind is not float else value
        return sign_with_app_key(ctx.app, claims)

    return make


def _wrong_typ(ctx: Ctx) -> str:
    return sign_with_header(ctx.key, ctx.claims(), typ="JWT")


def _tampered_scope(ctx: Ctx) -> str:
    token = access_token(ctx.http, ctx.creds, scope="jobs")
    header, _, signature = token.split(".")
    _, claims = unverified(token)
    claims["scope"] = "jobs candidates"
    return f"{header}.{b64url_json(claims)}.{signature}"


def _wrong_audience(ctx: Ctx) -> str:
    return sign_with_app_key(ctx.app, ctx.claims(aud="https://other.example.com"))


def _audience_list(ctx: Ctx) -> str:
    return sign_with_app_key(ctx.app, ctx.claims(aud=["https://other.example.com"]))


def _unknown_client(ctx: Ctx) -> str:
    return sign_with_app_key(ctx.app, claims_for("C" * 24, "jobs"))


def _sub_differs_from_client_id(ctx: Ctx) -> str:
    return sign_with_app_key(ctx.app, ctx.claims(sub="someone-else"))


def _revoked_client(ctx: Ctx) -> str:
    token = ctx.issued()
    with ctx.app.app_context():
        clients.revoke_client(Actor.cli(), ctx.creds.client_id)
    return token


def _expired_client(ctx: Ctx) -> str:
    token = ctx.issued()
    set_expiry_in_past(ctx.app, ctx.creds.client_id)
    return token


def _revoked_jti(ctx: Ctx) -> str:
    token = ctx.issued()
    assert revoke(ctx.http, token, ctx.creds).status_code == 200
    return token


def _scope_no_longer_held(ctx: Ctx) -> str:
    token = ctx.issued()
    with ctx.app.app_context():
        clients.update_client(Actor.cli(), ctx.creds.client_id, scopes=["jobs"])
    return token


def _other_issuer_key_for_alg(ctx: Ctx) -> str:
    """ES256 in the header while the kid names an RSA key."""
    header = {"alg": "ES256", "typ": "at+jwt", "kid": ctx.key.kid}
    return f"{b64url_json(header)}.{b64url_json(ctx.claims())}.{b64url(b'x' * 64)}"


FORGED: dict[str, Callable[[Ctx], str] | str] = {
    "garbage": "garbage",
    "space": " ",
    "dot": ".",
    "three-dots": "...",
    "two-dots": "a.b.c",
    "json-fragments": "eyJ.eyJ.sig",
    "non-ascii": "ünïcödé.tøkén.✓",
    "very-long": "x" * 10_000,
    "sql-looking": "' OR 1=1; --",
    "alg-none": _alg_none,
    "alg-none-with-signature": _alg_none_with_signature,
    "hs256-signed-with-public-key": _hs256_with_public_key,
    "alg-does-not-match-key": _other_issuer_key_for_alg,
    "unknown-kid": _unknown_kid,
    "bad-signature-known-kid": _known_kid_foreign_key,
    "no-kid": _no_kid,
    "foreign-issuer": _foreign_issuer,
    "expired": _expired,
    "expired-one-second-ago": _expired_one_second_ago,
    "nbf-in-future": _nbf_in_future,
    "missing-exp": _missing_exp,
    "exp-a-string": _numeric_date("exp", str),
    "nbf-a-string": _numeric_date("nbf", str),
    "iat-a-string": _numeric_date("iat", str),
    "exp-a-fraction": _numeric_date("exp", float),
    "iat-a-boolean": _numeric_date("iat", bool),
    "wrong-typ": _wrong_typ,
    "tampered-scope": _tampered_scope,
    "wrong-audience": _wrong_audience,
    "audience-list-foreign": _audience_list,
    "unknown-client": _unknown_client,
    "sub-differs-from-client-id": _sub_differs_from_client_id,
    "revoked-client": _revoked_client,
    "expired-client": _expired_client,
    "revoked-jti": _revoked_jti,
    "scope-no-longer-held": _scope_no_longer_held,
}


@pytest.fixture
def ctx(app, http, factory) -> Ctx:
    return Ctx(
        app, http, factory, factory.client(scopes=["jobs", "candidates"]), factory.introspector()
    )


@pytest.mark.parametrize("case", list(FORGED), ids=list(FORGED))
def test_invalid_tokens_are_exactly_inactive(ctx, case):
    """On every call: the first one, and the later ones that may meet a remembered token."""
    make = FORGED[case]
    token = make if isinstance(make, str) else make(ctx)
    for _ in range(3):
        response = introspect(ctx.http, token, ctx.spy)
        assert response.status_code == 200, response.get_data(as_text=True)
        assert response.json == {"active": False}


def test_hand_signed_control_token_is_active(ctx):
    """The forged cases above differ from this one in one respect each: this one must pass."""
    token = sign_with_app_key(ctx.app, ctx.claims())
    body = introspect(ctx.http, token, ctx.spy).json
    assert body["active"] is True
    assert body["client_id"] == ctx.creds.client_id


def test_hs256_forgery_uses_a_key_the_server_publishes(ctx):
    """Guards the HS256 case: its kid is the published one and only the algorithm differs."""
    kids = {key["kid"] for key in ctx.http.get("/.well-known/jwks.json").json["keys"]}
    header, _ = unverified(_hs256_with_public_key(ctx))
    assert header["kid"] in kids and header["alg"] == "HS256"


def test_revocation_is_seen_at_once_in_the_same_process(app, http, factory):
    creds = factory.client()
    spy = factory.introspector()
    token = access_token(http, creds)
    assert is_active(http, token, spy)  # the client's snapshot is now cached
    with app.app_context():
        clients.revoke_client(Actor.cli(), creds.client_id)
    assert introspect(http, token, spy).json == {"active": False}


def test_narrowing_keeps_new_tokens_with_the_remaining_scopes(app, http, factory):
    creds = factory.client(scopes=["jobs", "candidates"])
    spy = factory.introspector()
    with app.app_context():
        clients.update_client(Actor.cli(), creds.client_id, scopes=["jobs"])
    token = access_token(http, creds)
    assert unverified(token)[1]["scope"] == "jobs"
    assert is_active(http, token, spy)


def test_widening_keeps_existing_tokens(app, http, factory):
    creds = factory.client(scopes=["jobs"])
    spy = factory.introspector()
    token = access_token(http, creds)
    with app.app_context():
        clients.update_client(Actor.cli(), creds.client_id, scopes=["jobs", "candidates"])
    assert is_active(http, token, spy)


# -- revocation seen within a second by other instances sharing the database ---------------
def _inactive_within_a_second(http, token: str, spy: Credentials) -> float:
    """Poll another instance; return how long the token stayed active (fails after 1 s)."""
    start = time.monotonic()
    while True:
        if introspect(http, token, spy).json == {"active": False}:
            return time.monotonic() - start
        assert time.monotonic() - start < 1.0, "still active on the other instance after 1 s"
        time.sleep(0.05)


def test_client_revocation_reaches_another_instance_within_a_second(app, second_app, http, factory):
    creds, spy = factory.client(), factory.introspector()
    token = access_token(http, creds)
    other = second_app.test_client()
    assert is_active(other, token, spy)  # instance B has the client cached now
    assert other.post("/token", data=CC, headers=creds.basic).status_code == 200
    with app.app_context():
        clients.revoke_client(Actor.cli(), creds.client_id)
    _inactive_within_a_second(other, token, spy)
    assert_oauth_error(other.post("/token", data=CC, headers=creds.basic), 401, "invalid_client")


def test_token_revocation_reaches_another_instance_within_a_second(second_app, http, factory):
    creds, spy = factory.client(), factory.introspector()
    token = access_token(http, creds)
    other = second_app.test_client()
    assert is_active(other, token, spy)
    assert revoke(http, token, creds).status_code == 200
    _inactive_within_a_second(other, token, spy)


def test_scope_narrowing_reaches_another_instance_within_a_second(app, second_app, http, factory):
    creds, spy = factory.client(scopes=["jobs", "candidates"]), factory.introspector()
    token = access_token(http, creds)
    other = second_app.test_client()
    assert is_active(other, token, spy)
    with app.app_context():
        clients.update_client(Actor.cli(), creds.client_id, scopes=["jobs"])
    _inactive_within_a_second(other, token, spy)
    narrowed = other.post("/token", data={**CC, "scope": "candidates"}, headers=creds.basic)
    assert_oauth_error(narrowed, 400, "invalid_scope")


# -- the per-token verification memory must never outlive what it remembers -----
def test_remembered_token_still_expires_on_time(app, http, factory):
    """A token introspected once (signature remembered) is inactive the moment it expires."""
    creds, spy = factory.client(), factory.introspector()
    token = jwts.sign(claims_for(creds.client_id, exp=int(time.time()) + 2), signing_key(app))
    assert is_active(http, token, spy)
    time.sleep(max(0.0, jwt_exp(token) - time.time()) + 0.05)
    assert introspect(http, token, spy).json == {"active": False}


def test_remembered_token_dies_with_its_key(app, http, factory, keys_dir):
    """Removing the signing key from the folder makes its remembered tokens inactive."""
    creds, spy = factory.client(), factory.introspector()
    token = access_token(http, creds)
    assert is_active(http, token, spy)
    store = app.extensions["gatehouse"].keys
    old = store.signing_key().kid
    store.create("ES256")
    spy_token_after = access_token(http, spy)  # signed by the new key: callers still work
    (keys_dir / f"{old}.pem").unlink()
    store.refresh(force=True)
    assert introspect(http, token, spy).json == {"active": False}
    assert is_active(http, spy_token_after, spy)


def jwt_exp(token: str) -> int:
    return unverified(token)[1]["exp"]

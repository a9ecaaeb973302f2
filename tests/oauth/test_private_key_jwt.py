"""``private_key_jwt`` (RFC 7523 §2.2): key clients authenticate with signed assertions at
/token, /introspect, /revoke and /revocations; every refused assertion gets the answer of
a wrong secret; a ``jti`` is used once, on every worker; replaced keys stop at once."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable

import jwt
import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.security.secrets import generate_secret
from app.services import client_credentials, client_queries, clients
from app.services.actors import Actor
from tests.assertions import (
    ASSERTION_TYPE,
    KIND,
    assertion,
    assertion_form,
    b64url,
    claims_for,
    jwk_set,
    public_jwk,
    public_pem,
    session_key,
    sign,
)
from tests.conftest import ISSUER, Credentials, Factory
from tests.oauth.helpers import CC, access_token, assert_oauth_error, set_expiry_in_past

TOKEN_URL = f"{ISSUER}/token"
ALGS = ["RS256", "PS256", "ES256", "EdDSA", "Ed25519"]


def key_client(factory: Factory, *keys, scopes: list[str] | None = None, **jwk_members) -> str:
    """A key client registered with the public halves of ``keys`` (default: the EC key)."""
    keys = keys or (session_key("ec"),)
    jwks = {"keys": [public_jwk(key, **jwk_members) for key in keys]}
    return factory.client(scopes=scopes, jwks=jwks).client_id


def post_token(http: FlaskClient, value: str, **extra: str):
    return http.post("/token", data={**CC, **assertion_form(value, **extra)})


def wrong_secret_answer(http: FlaskClient, client_id: str):
    """What a wrong (well-formed) secret sent in the form body gets: every refused assertion,
    also sent in the form body, must look the same (no challenge: Basic was not tried)."""
    form = {**CC, "client_id": client_id, "client_secret": generate_secret()}
    return http.post("/token", data=form)


def same_answer(response, reference) -> None:
    assert response.status_code == reference.status_code == 401, response.get_data(as_text=True)
    assert response.json == reference.json
    assert response.headers.get("WWW-Authenticate") == reference.headers.get("WWW-Authenticate")


# -- accepted ---------------------------------------------------------------------
@pytest.mark.parametrize("alg", ALGS)
@pytest.mark.parametrize("aud", [ISSUER, TOKEN_URL, [ISSUER, "https://other.example"]])
def test_each_algorithm_and_audience_gets_a_token(http, factory, alg, aud):
    key = session_key(KIND[alg])
    client_id = key_client(factory, key)
    response = post_token(http, assertion(client_id, key, alg, aud))
    assert response.status_code == 200, response.json
    assert response.json["token_type"] == "Bearer"
    claims = jwt.decode(response.json["access_token"], options={"verify_signature": False})
    assert claims["client_id"] == client_id


@pytest.mark.parametrize(
    "what",
    [
        "no kid, several keys",
        "a kid naming one of them",
        "a kid naming none of them",
        "the key's own alg and use",
    ],
)
def test_the_signing_key_is_found_among_several(http, factory, what):
    """Neither Authlib's client nor openid-client sends a kid: keys are chosen by alg and type."""
    rsa_a, rsa_b, ec_key = session_key("rsa", 1), session_key("rsa"), session_key("ec")
    members = {"alg": "RS256", "use": "sig"} if what == "the key's own alg and use" else {}
    jwks = {
        "keys": [public_jwk(ec_key), public_jwk(rsa_a, **members), public_jwk(rsa_b, **members)]
    }
    client_id = factory.client(jwks=jwks).client_id
    kids = {
        "a kid naming one of them": _thumbprint(rsa_b),
        "a kid naming none of them": "my-own-label",
    }
    signed = sign(claims_for(client_id, ISSUER), rsa_b, "RS256", kid=kids.get(what))
    assert post_token(http, signed).status_code == 200


def _thumbprint(key) -> str:
    """RFC 7638: the kid Gatehouse gives a key registered without one."""
    jwk = public_jwk(key)
    members = {name: jwk[name] for name in sorted(("e", "kty", "n"))}
    digest = hashlib.sha256(json.dumps(members, separators=(",", ":")).encode()).digest()
    return b64url(digest)


def test_a_client_id_beside_the_assertion_is_accepted_when_it_is_the_sub(http, factory):
    """openid-client sends client_id with the assertion (RFC 7521 §4.2 allows it)."""
    client_id = key_client(factory)
    signed = assertion(client_id, session_key("ec"), "ES256", ISSUER)
    assert post_token(http, signed, client_id=client_id).status_code == 200


def test_exp_up_to_an_hour_ahead_and_no_iat_are_accepted(http, factory):
    """Authlib's client signs ``exp`` = now + 3600; ``iat`` and ``nbf`` are optional."""
    client_id = key_client(factory)
    now = int(time.time())
    signed = assertion(client_id, session_key("ec"), "ES256", ISSUER, exp=now + 3600, iat=None)
    assert post_token(http, signed).status_code == 200


# -- refused like a wrong secret ---------------------------------------------------
def _cases() -> dict[str, Callable[[str, str], str]]:
    """Each builds a broken assertion for (client_id, other key client's id)."""
    ec_key, now = session_key("ec"), int(time.time())
    rsa_key = session_key("rsa")

    def signed(client_id: str, **overrides) -> str:
        return sign(claims_for(client_id, **{"aud": ISSUER, **overrides}), ec_key, "ES256")

    public = public_pem(ec_key).encode()
    return {
        "foreign aud": lambda c, o: signed(c, aud="https://elsewhere.example"),
        "aud missing": lambda c, o: signed(c, aud=None),
        "aud the https twin of the issuer": lambda c, o: signed(c, aud="https://127.0.0.1:8000"),
        "aud the introspection URL at /token": lambda c, o: signed(c, aud=f"{ISSUER}/introspect"),
        "aud a list without us": lambda c, o: signed(c, aud=["https://a.example", "b"]),
        "iss is not sub": lambda c, o: signed(c, iss=o),
        "iss missing": lambda c, o: signed(c, iss=None),
        "sub missing": lambda c, o: signed(c, sub=None),
        "sub another key client": lambda c, o: signed(o, iss=o),
        "sub a number": lambda c, o: signed(c, sub=12345),
        "exp missing": lambda c, o: signed(c, exp=None),
        "exp two hours ahead": lambda c, o: signed(c, exp=now + 7200),
        "exp an hour and 2 minutes ahead": lambda c, o: signed(c, exp=now + 3600 + 120),
        "exp passed": lambda c, o: signed(c, exp=now - 120, iat=now - 180),
        "exp a string": lambda c, o: signed(c, exp=str(now + 60)),
        "nbf in two minutes": lambda c, o: signed(c, nbf=now + 120),
        "iat in two minutes": lambda c, o: signed(c, iat=now + 120),
        "jti missing": lambda c, o: signed(c, jti=None),
        "jti a number": lambda c, o: signed(c, jti=42),
        "jti over 255 characters": lambda c, o: signed(c, jti="j" * 256),
        "alg none": lambda c, o: sign(claims_for(c, ISSUER), None, "none"),
        "HS256 keyed with the public key": lambda c, o: sign(
            claims_for(c, ISSUER), public, "HS256"
        ),
        "signed by a foreign key": lambda c, o: assertion(c, session_key("ec", 9), "ES256", ISSUER),
        "RS256 for an EC client": lambda c, o: assertion(c, rsa_key, "RS256", ISSUER),
        "alg ES256 but signed with RSA": lambda c, o: _relabel(
            assertion(c, rsa_key, "RS256", ISSUER), "ES256"
        ),
        "tampered claims": lambda c, o: _tamper(signed(c)),
        "unknown critical header": lambda c, o: sign(
            claims_for(c, ISSUER), ec_key, "ES256", crit=["x-gatehouse"], **{"x-gatehouse": 1}
        ),
        "garbage": lambda c, o: "not.a.jwt",
        "two segments": lambda c, o: ".".join(signed(c).split(".")[:2]),
    }


def _relabel(token: str, alg: str) -> str:
    """The same signature under a header naming another algorithm."""
    header = b64url(json.dumps({"alg": alg, "typ": "JWT"}).encode())
    return header + token[token.index(".") :]


def _tamper(token: str) -> str:
    """Another jti under the original signature."""
    header, _, signature = token.split(".")
    claims = jwt.decode(token, options={"verify_signature": False}) | {"jti": "tampered"}
    return ".".join([header, b64url(json.dumps(claims).encode()), signature])


CASES = sorted(_cases())


@pytest.mark.parametrize("case", CASES)
def test_a_broken_assertion_gets_the_wrong_secret_answer(http, factory, case):
    client_id, other = key_client(factory), key_client(factory, session_key("ec", 5))
    reference = wrong_secret_answer(http, factory.client().client_id)
    same_answer(post_token(http, _cases()[case](client_id, other)), reference)
    # and the client itself still works: nothing was burnt by the refused one
    fine = assertion(client_id, session_key("ec"), "ES256", ISSUER)
    assert post_token(http, fine).status_code == 200


@pytest.mark.parametrize(
    "form",
    [
        {"client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:saml2-bearer"},
        {"client_assertion": None},
        {"client_assertion_type": None},
        {"client_id": "someone-else-entirely-0000"},
    ],
    ids=["another assertion type", "no assertion", "no assertion type", "client_id is not sub"],
)
def test_a_malformed_assertion_request_gets_the_wrong_secret_answer(http, factory, form):
    client_id = key_client(factory)
    value = assertion(client_id, session_key("ec"), "ES256", ISSUER)
    data = {**CC, **assertion_form(value), **form}
    reference = wrong_secret_answer(http, client_id)
    same_answer(http.post("/token", data={k: v for k, v in data.items() if v}), reference)


def test_a_replayed_assertion_is_refused(http, factory):
    client_id = key_client(factory)
    once = assertion(client_id, session_key("ec"), "ES256", ISSUER)
    assert post_token(http, once).status_code == 200
    same_answer(post_token(http, once), wrong_secret_answer(http, client_id))


def test_a_replay_is_refused_by_another_instance(http, factory, second_app: Flask):
    """The jti store is the database (or Redis): shared by every worker and instance."""
    client_id = key_client(factory)
    once = assertion(client_id, session_key("ec"), "ES256", ISSUER)
    assert post_token(http, once).status_code == 200
    assert post_token(second_app.test_client(), once).status_code == 401


def test_the_same_jti_from_two_clients_is_two_assertions(http, factory):
    first, second = key_client(factory), key_client(factory)
    for client_id in (first, second):
        signed = assertion(client_id, session_key("ec"), "ES256", ISSUER, jti="shared-jti")
        assert post_token(http, signed).status_code == 200


@pytest.mark.parametrize("extra", ["basic", "client_secret"])
def test_an_assertion_with_a_secret_is_two_methods(http, factory, extra):
    """Only one client authentication method per request (RFC 6749 §2.3)."""
    creds = factory.client()
    client_id = key_client(factory)
    value = assertion(client_id, session_key("ec"), "ES256", ISSUER)
    if extra == "basic":
        response = http.post("/token", data={**CC, **assertion_form(value)}, headers=creds.basic)
    else:
        response = post_token(http, value, client_secret=creds.secret)
    assert_oauth_error(response, 400, "invalid_request")


def test_a_key_client_has_no_secret_and_a_secret_client_no_keys(http, factory):
    secret_client = factory.client()
    key = session_key("ec")
    # a secret client's id with a valid signature by some key: no keys, no entry
    same_answer(
        post_token(http, assertion(secret_client.client_id, key, "ES256", ISSUER)),
        wrong_secret_answer(http, secret_client.client_id),
    )
    assert access_token(http, secret_client)  # its secret still works


@pytest.mark.parametrize("state", ["revoked", "expired"])
def test_an_inactive_key_client_is_refused(app, http, factory, state):
    client_id = key_client(factory)
    with app.app_context():
        if state == "revoked":
            clients.revoke_client(Actor.cli(), client_id)
        else:
            set_expiry_in_past(app, client_id)
    value = assertion(client_id, session_key("ec"), "ES256", ISSUER)
    same_answer(post_token(http, value), wrong_secret_answer(http, client_id))


# -- the other endpoints -----------------------------------------------------------
def test_introspect_revoke_and_the_feed_take_assertions(http, factory):
    key = session_key("ec")
    resource = key_client(factory, key, scopes=["introspect"])
    worker = factory.client()
    token = access_token(http, worker)

    def signed(aud: str) -> dict[str, str]:
        return assertion_form(assertion(resource, key, "ES256", aud))

    # the audience may be the URL of the endpoint called, the token endpoint, or the issuer
    answer = http.post("/introspect", data={"token": token, **signed(f"{ISSUER}/introspect")})
    assert answer.status_code == 200 and answer.json["active"] is True
    answer = http.post("/introspect", data={"token": token, **signed(TOKEN_URL)})
    assert answer.status_code == 200 and answer.json["active"] is True
    feed = http.post("/revocations", data={"since": "0", **signed(f"{ISSUER}/revocations")})
    assert feed.status_code == 200, feed.json
    assert set(feed.json) == {"events", "cursor"}
    # a key client revokes its own token
    own = post_token(http, assertion(resource, key, "ES256", ISSUER)).json["access_token"]
    revoked = http.post("/revoke", data={"token": own, **signed(f"{ISSUER}/revoke")})
    assert revoked.status_code == 200
    answer = http.post("/introspect", data={"token": own, **signed(ISSUER)})
    assert answer.json == {"active": False}


def test_the_feed_by_get_cannot_carry_an_assertion(http, factory):
    """GET has no body a client sends: a key client reads the feed with POST."""
    key = session_key("ec")
    resource = key_client(factory, key, scopes=["introspect"])
    value = assertion(resource, key, "ES256", ISSUER)
    response = http.open(
        "/revocations",
        method="GET",
        data=assertion_form(value),
        content_type="application/x-www-form-urlencoded",
    )
    body = assert_oauth_error(response, 401, "invalid_client")
    assert "POST" in body["error_description"]


def test_the_feed_by_post_refuses_a_query_string(http, factory):
    creds = factory.introspector()
    response = http.post("/revocations?since=0", data={}, headers=creds.basic)
    assert_oauth_error(response, 400, "invalid_request")
    assert http.post("/revocations", data={"since": "0"}, headers=creds.basic).status_code == 200


# -- replacing the keys --------------------------------------------------------------
def test_replaced_keys_stop_at_once_here_and_within_a_second_elsewhere(
    app, http, factory, second_app: Flask
):
    old, new = session_key("ec"), session_key("ec", 2)
    client_id = key_client(factory, old)
    other = second_app.test_client()
    assert post_token(other, assertion(client_id, old, "ES256", ISSUER)).status_code == 200
    with app.app_context():
        client_credentials.set_keys(Actor.cli(), client_id, public_pem(new))
    assert post_token(http, assertion(client_id, old, "ES256", ISSUER)).status_code == 401
    assert post_token(http, assertion(client_id, new, "ES256", ISSUER)).status_code == 200
    deadline = time.monotonic() + 1.0
    while post_token(other, assertion(client_id, old, "ES256", ISSUER)).status_code == 200:
        assert time.monotonic() < deadline, "the other instance still takes the replaced key"
        time.sleep(0.05)
    assert post_token(other, assertion(client_id, new, "ES256", ISSUER)).status_code == 200


def test_an_unused_credentials_form_is_not_an_assertion(http, factory):
    """A secret client's requests do not change: client_secret_post still works."""
    creds: Credentials = factory.client()
    data = {**CC, "client_id": creds.client_id, "client_secret": creds.secret}
    assert http.post("/token", data=data).status_code == 200
    assert ASSERTION_TYPE not in http.post("/token", data=data).get_data(as_text=True)


def test_jwks_of_the_registered_keys_round_trip(app, factory):
    """What was registered is what is stored: public members, a kid each."""
    client_id = key_client(factory, session_key("rsa"), session_key("ed"))
    with app.app_context():
        stored = client_queries.describe(client_queries.find_client(Actor.cli(), client_id))
    assert stored["token_endpoint_auth_method"] == "private_key_jwt"
    assert [key["kty"] for key in stored["jwks"]["keys"]] == ["RSA", "OKP"]
    for key in stored["jwks"]["keys"]:
        assert key["kid"] and not {"d", "p", "q"} & set(key)
    assert jwk_set(session_key("rsa"))["keys"][0]["n"] == stored["jwks"]["keys"][0]["n"]

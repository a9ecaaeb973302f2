"""``app.resource``: the offline verifier a resource service imports, against a live server.

A real ``gatehouse serve`` (one worker) publishes the JWKS and the revocation feed;
it shares the test database and signing key with the in-process ``app`` fixture.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from flask import Flask

from app.resource import InsufficientScope, InvalidToken, Unavailable, Verifier, require_scope
from app.security import jwts
from app.security.key_pairs import KeyPair, generate_private_key
from app.services import clients
from app.services.actors import Actor
from app.services.signing_keys import KeyStore
from tests.conftest import Credentials, Factory
from tests.live.calls import access_token, jwt_header
from tests.live.server import LiveServer, free_port, running_server, server_env


@pytest.fixture(scope="module")
def server(
    database_url: str, session_key_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    root = tmp_path_factory.mktemp("resource-server")
    shutil.copytree(session_key_dir, root / "keys")  # the key of every test's keys_dir
    port = free_port()
    env = server_env(database_url, root / "keys", root / "instance", f"http://127.0.0.1:{port}")
    with running_server(env, port, root / "server.log", workers=1) as live:
        yield live


@pytest.fixture
def config(config: dict[str, object], server: LiveServer) -> dict[str, object]:
    return {**config, "GATEHOUSE_ISSUER": server.url}


@pytest.fixture
def signing_key(keys_dir: Path) -> KeyPair:
    """The key the live server signs with (until a test rotates it)."""
    return KeyStore(keys_dir, 600).signing_key()


def _counting(verifier: Verifier) -> list[str]:
    """Record the URLs the verifier fetches."""
    fetched: list[str] = []
    real = verifier._get_json

    def spy(url: str, headers: Any) -> Any:
        fetched.append(url)
        return real(url, headers)

    verifier._get_json = spy  # type: ignore[method-assign]
    return fetched


def _claims(url: str, client_id: str = "resource-test", **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "iss": url,
        "sub": client_id,
        "client_id": client_id,
        "aud": url,
        "scope": "jobs",
        "iat": now,
        "nbf": now,
        "exp": now + 300,
        "jti": f"jti-{time.monotonic_ns()}",
    }
    claims.update(changes)
    return claims


def _b64(data: bytes | dict) -> str:
    raw = json.dumps(data).encode() if isinstance(data, dict) else data
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


# -- accepting and scope guard ---------------------------------------------------------


def test_verifies_a_live_token_and_guards_scopes(server: LiveServer, factory: Factory) -> None:
    creds = factory.client(scopes=["jobs", "candidates"])
    token = access_token(server.url, creds)
    verifier = Verifier(server.url, server.url)

    claims = verifier.verify(token)

    assert claims["client_id"] == claims["sub"] == creds.client_id
    assert claims["scope"] == "candidates jobs"
    require_scope(claims, "jobs")
    require_scope(claims, "jobs", "candidates")
    with pytest.raises(InsufficientScope, match="employees") as raised:
        require_scope(claims, "jobs", "employees")
    assert raised.value.missing == ("employees",)


def test_accepts_one_of_several_audiences_and_a_requested_leeway(
    server: LiveServer, signing_key: KeyPair
) -> None:
    token = jwts.sign(_claims(server.url, aud="https://jobs.example"), signing_key)
    verifier = Verifier(server.url, ["https://other.example", "https://jobs.example"])
    assert verifier.verify(token)["aud"] == "https://jobs.example"

    late = jwts.sign(_claims(server.url, exp=int(time.time()) - 5), signing_key)
    with pytest.raises(InvalidToken, match="expired"):
        Verifier(server.url, server.url).verify(late)
    assert Verifier(server.url, server.url, leeway=30).verify(late)["iss"] == server.url


# -- refusing ----------------------------------------------------------------------------


def _tampered(url: str, key: KeyPair) -> str:
    header, payload, signature = jwts.sign(_claims(url), key).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["scope"] = "jobs employees"
    return f"{header}.{_b64(claims)}.{signature}"


def _unsigned(url: str, key: KeyPair) -> str:
    return f"{_b64({'alg': 'none', 'typ': 'at+jwt', 'kid': key.kid})}.{_b64(_claims(url))}."


def _hs256_with_public_key(url: str, key: KeyPair) -> str:
    """The classic RS/HS confusion: an HMAC keyed with the published public key."""
    public_pem = key.public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    head = f"{_b64({'alg': 'HS256', 'typ': 'at+jwt', 'kid': key.kid})}.{_b64(_claims(url))}"
    mac = hmac.new(public_pem, head.encode(), hashlib.sha256).digest()
    return f"{head}.{_b64(mac)}"


def _typ_jwt(url: str, key: KeyPair) -> str:
    return jwt.encode(_claims(url), key.private_key, "RS256", {"kid": key.kid, "typ": "JWT"})


def _unknown_kid(url: str, key: KeyPair) -> str:
    return jwts.sign(_claims(url), KeyPair("nobody-knows", "RS256", generate_private_key("RS256")))


def _alg_not_the_keys(url: str, key: KeyPair) -> str:
    return jwts.sign(_claims(url), KeyPair(key.kid, "ES256", generate_private_key("ES256")))


def _signed(**changes: Any) -> Callable[[str, KeyPair], str]:
    def make(url: str, key: KeyPair) -> str:
        claims = _claims(url, **changes)
        return jwts.sign({k: v for k, v in claims.items() if v is not None}, key)

    return make


#: case -> (token maker, what the error says)
BAD_TOKENS: dict[str, tuple[Callable[[str, KeyPair], str], str]] = {
    "garbage": (lambda url, key: "not-a-jwt", "malformed"),
    "expired": (_signed(exp=int(time.time()) - 1), "expired"),
    "not yet valid": (_signed(nbf=int(time.time()) + 3600), "not yet valid"),
    "tampered claims": (_tampered, "Signature verification failed"),
    "alg none": (_unsigned, "unsupported alg"),
    "HS256 keyed with the public key": (_hs256_with_public_key, "unsupported alg"),
    "typ JWT, not at+jwt": (_typ_jwt, "typ must be at"),
    "unknown kid": (_unknown_kid, "unknown signing key"),
    "alg not the key's": (_alg_not_the_keys, "alg does not match"),
    "foreign issuer": (_signed(iss="https://evil.example"), "(?i)issuer"),
    "other audience": (_signed(aud="https://payroll.example"), "(?i)audience"),
    "sub is not the client": (_signed(sub="someone-else"), "inconsistent"),
    "no jti": (_signed(jti=None), "jti"),
}


@pytest.mark.parametrize("case", list(BAD_TOKENS))
def test_refuses_bad_tokens(server: LiveServer, signing_key: KeyPair, case: str) -> None:
    make, reason = BAD_TOKENS[case]
    verifier = Verifier(server.url, server.url)
    assert verifier.verify(jwts.sign(_claims(server.url), signing_key))  # the key is fine
    with pytest.raises(InvalidToken, match=reason):
        verifier.verify(make(server.url, signing_key))


# -- remembered tokens ------------------------------------------------------------------


def test_a_remembered_token_still_expires(server: LiveServer, signing_key: KeyPair) -> None:
    expires = int(time.time()) + 1
    token = jwts.sign(_claims(server.url, exp=expires), signing_key)
    verifier = Verifier(server.url, server.url)
    assert verifier.verify(token)["exp"] == expires
    assert verifier.verify(token)["exp"] == expires  # remembered
    while time.time() < expires:
        time.sleep(0.05)
    with pytest.raises(InvalidToken, match="expired"):
        verifier.verify(token)


@pytest.mark.parametrize(
    ("kid", "reason"),
    [("successor", "unknown signing key"), (None, "Signature verification failed")],
    ids=["key withdrawn", "other key under the same kid"],
)
def test_a_remembered_token_dies_with_its_key(
    server: LiveServer, signing_key: KeyPair, kid: str | None, reason: str
) -> None:
    token = jwts.sign(_claims(server.url), signing_key)
    verifier = Verifier(server.url, server.url, refetch_interval=0, keys_max_age=0)
    assert verifier.verify(token)
    assert verifier.verify(token)  # remembered
    other = KeyPair(kid or signing_key.kid, "RS256", generate_private_key("RS256"))
    verifier._get_json = lambda url, headers: {"keys": [other.public_jwk()]}  # type: ignore[method-assign]
    with pytest.raises(InvalidToken, match=reason):
        verifier.verify(token)


def test_returned_claims_are_the_callers_own(server: LiveServer, signing_key: KeyPair) -> None:
    token = jwts.sign(_claims(server.url), signing_key)
    verifier = Verifier(server.url, server.url)
    claims = verifier.verify(token)
    claims["scope"] = "jobs employees"
    assert verifier.verify(token)["scope"] == "jobs"


# -- keys: cache, rate-limited refetch, rotation, outage -------------------------------------


def test_unknown_kids_do_not_hammer_the_issuer(server: LiveServer, signing_key: KeyPair) -> None:
    verifier = Verifier(server.url, server.url, refetch_interval=60)
    fetched = _counting(verifier)
    good = jwts.sign(_claims(server.url), signing_key)
    for _ in range(5):
        verifier.verify(good)
    assert fetched == [f"{server.url}/.well-known/jwks.json"]  # cached by kid

    stranger = KeyPair("forged-kid", "RS256", generate_private_key("RS256"))
    for _ in range(20):
        with pytest.raises(InvalidToken, match="unknown signing key"):
            verifier.verify(jwts.sign(_claims(server.url), stranger))
    assert len(fetched) == 1  # the last fetch was under 60 s ago: no refetch

    eager = Verifier(server.url, server.url, refetch_interval=0)
    eager_fetched = _counting(eager)
    for _ in range(3):
        with pytest.raises(InvalidToken, match="unknown signing key"):
            eager.verify(jwts.sign(_claims(server.url), stranger))
    assert len(eager_fetched) == 3


def test_a_rotated_key_is_fetched_when_its_kid_appears(
    server: LiveServer, factory: Factory
) -> None:
    creds = factory.client()
    old = access_token(server.url, creds)
    verifier = Verifier(server.url, server.url, refetch_interval=0)
    fetched = _counting(verifier)
    verifier.verify(old)

    KeyStore(Path(server.env["GATEHOUSE_KEYS_DIR"]), 600).create("RS256")
    deadline = time.monotonic() + 10
    new = old
    while jwt_header(new)["kid"] == jwt_header(old)["kid"] and time.monotonic() < deadline:
        time.sleep(0.2)  # the server looks at its keys folder once a second
        new = access_token(server.url, creds)
    assert jwt_header(new)["kid"] != jwt_header(old)["kid"], "the server kept the old key"

    assert verifier.verify(new)["client_id"] == creds.client_id
    assert verifier.verify(old)["client_id"] == creds.client_id  # the old key is still published
    assert len(fetched) == 2


def test_an_unreachable_issuer_is_unavailable(signing_key: KeyPair) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"
    verifier = Verifier(nowhere, nowhere, timeout=2)
    with pytest.raises(Unavailable, match="no signing keys"):
        verifier.verify(jwts.sign(_claims(nowhere), signing_key))
    assert issubclass(Unavailable, InvalidToken)


# -- the revocation feed -------------------------------------------------------------------


def _feed_verifier(server: LiveServer, spy: Credentials, **options: Any) -> Verifier:
    return Verifier(server.url, server.url, feed_auth=(spy.client_id, spy.secret), **options)


def test_feed_refuses_tokens_of_a_revoked_client(
    server: LiveServer, factory: Factory, app: Flask
) -> None:
    doomed, other = factory.client(), factory.client()
    doomed_token, other_token = access_token(server.url, doomed), access_token(server.url, other)
    verifier = _feed_verifier(server, factory.introspector(), feed_interval=0)
    fetched = _counting(verifier)
    assert verifier.verify(doomed_token)["client_id"] == doomed.client_id

    with app.app_context():
        clients.revoke_client(Actor.cli(), doomed.client_id)

    with pytest.raises(InvalidToken, match="client of this token is revoked"):
        verifier.verify(doomed_token)
    assert verifier.verify(other_token)["client_id"] == other.client_id
    feed_calls = [url for url in fetched if "/revocations" in url]
    assert feed_calls[0] == f"{server.url}/revocations"  # first: everything that still matters
    assert all("?since=" in url for url in feed_calls[1:])  # then: only what is new


def test_feed_knows_revocations_made_before_the_verifier_started(
    server: LiveServer, factory: Factory, app: Flask
) -> None:
    doomed = factory.client()
    token = access_token(server.url, doomed)
    with app.app_context():
        clients.revoke_client(Actor.cli(), doomed.client_id)
    verifier = _feed_verifier(server, factory.introspector())
    with pytest.raises(InvalidToken, match="revoked"):
        verifier.verify(token)


def test_feed_refuses_a_token_revoked_on_its_own(server: LiveServer, factory: Factory) -> None:
    creds = factory.client()
    dropped, kept = access_token(server.url, creds), access_token(server.url, creds)
    verifier = _feed_verifier(server, factory.introspector(), feed_interval=0)
    assert verifier.verify(dropped)

    response = requests.post(
        f"{server.url}/revoke",
        data={"token": dropped},
        auth=(creds.client_id, creds.secret),
        timeout=10,
    )
    assert response.status_code == 200, response.text

    with pytest.raises(InvalidToken, match="the token is revoked"):
        verifier.verify(dropped)
    assert verifier.verify(kept)["client_id"] == creds.client_id


def test_feed_refuses_tokens_issued_before_a_scope_narrowing(
    server: LiveServer, factory: Factory, app: Flask
) -> None:
    creds = factory.client(scopes=["jobs", "candidates"])
    before = access_token(server.url, creds)
    verifier = _feed_verifier(server, factory.introspector(), feed_interval=0)
    issued_at = verifier.verify(before)["iat"]
    while int(time.time()) <= issued_at:  # the feed counts in whole seconds
        time.sleep(0.05)

    with app.app_context():
        clients.update_client(Actor.cli(), creds.client_id, scopes=["jobs"])

    with pytest.raises(InvalidToken, match="predates"):
        verifier.verify(before)
    # The server's workers cache client state briefly (a revocation may take up to 1 s).
    # Until then a token may still carry the removed scope: the feed's `scope` lets the
    # verifier refuse it.
    narrowed_by = time.monotonic() + 1.0
    while True:
        started = time.monotonic()
        after = access_token(server.url, creds)
        try:
            if verifier.verify(after)["scope"] == "jobs":
                break
        except InvalidToken as exc:
            assert "no longer holds" in str(exc)
        assert started < narrowed_by, "new tokens still carry a removed scope after 1 s"
        time.sleep(0.05)


def test_feed_needs_the_introspect_scope_and_can_fail_closed(
    server: LiveServer, factory: Factory
) -> None:
    creds = factory.client()
    token = access_token(server.url, creds)
    not_allowed = factory.client(scopes=["jobs"])

    lenient = _feed_verifier(server, not_allowed)
    assert lenient.verify(token)["client_id"] == creds.client_id  # the feed is only advisory

    strict = _feed_verifier(server, not_allowed, feed_max_age=5)
    with pytest.raises(Unavailable, match="revocation feed"):
        strict.verify(token)

    allowed = _feed_verifier(server, factory.introspector(), feed_max_age=5)
    assert allowed.verify(token)["client_id"] == creds.client_id


def test_feed_refuses_a_removed_scope_issued_just_after_the_narrowing(
    server: LiveServer, factory: Factory, app: Flask, signing_key: KeyPair
) -> None:
    """A worker whose snapshot is still stale may sign the old scopes for a moment after a
    narrowing; the feed names the scopes kept so offline verifiers refuse such tokens."""
    creds = factory.client(scopes=["jobs", "candidates"])
    verifier = _feed_verifier(server, factory.introspector(), feed_interval=0)
    with app.app_context():
        clients.update_client(Actor.cli(), creds.client_id, scopes=["jobs"])
    now = int(time.time())  # not before not_before (whole seconds), not in the future
    stale = {
        "iss": server.url,
        "sub": creds.client_id,
        "client_id": creds.client_id,
        "aud": server.url,
        "iat": now,
        "nbf": now - 1,
        "exp": now + 600,
        "jti": "stale-worker",
    }
    with pytest.raises(InvalidToken, match="no longer holds"):
        verifier.verify(jwts.sign({**stale, "scope": "jobs candidates"}, signing_key))
    assert verifier.verify(jwts.sign({**stale, "scope": "jobs", "jti": "fresh"}, signing_key))

"""Key clients against a live ``gatehouse serve`` (two workers): Authlib's ``PrivateKeyJWT``
client and node's openid-client v6 authenticate with a private key and no secret; an
assertion is accepted once across workers; replaced keys stop within a second."""

from __future__ import annotations

import json
import subprocess
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from joserfc.errors import SecurityWarning
from joserfc.jwk import ECKey, OKPKey, RSAKey
from sqlalchemy import select

from app.extensions import db
from app.models import Client
from tests.assertions import (
    KIND,
    assertion,
    assertion_form,
    jwk_set,
    private_pem,
    public_pem,
    session_key,
)
from tests.conftest import Factory
from tests.live.calls import TIMEOUT
from tests.live.node_clients import node_or_skip, openid_client_folder
from tests.live.server import LiveServer, run_cli

CC = {"grant_type": "client_credentials"}
JOSERFC_KEYS = {"rsa": RSAKey, "ec": ECKey, "ed": OKPKey}


@pytest.fixture(autouse=True)
def _plain_http_on_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    """Authlib's client refuses http:// unless told: the live server is on loopback."""
    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")


def post_assertion(url: str, client_id: str, key, alg: str = "ES256", **extra) -> requests.Response:
    value = assertion(client_id, key, alg, url, **extra)
    return requests.post(f"{url}/token", data={**CC, **assertion_form(value)}, timeout=TIMEOUT)


def has_no_secret(app, client_id: str) -> bool:
    with app.app_context():
        row = db.session.scalars(select(Client).where(Client.client_id == client_id)).one()
        return row.secret_hash is None and row.previous_secret_hash is None


@pytest.mark.parametrize("alg", ["RS256", "PS256", "ES256", "Ed25519", "EdDSA"])
def test_authlib_private_key_jwt_client(app, live_server: LiveServer, factory: Factory, alg):
    """Authlib signs ``aud`` = the token endpoint, ``exp`` = now + 3600, and no ``kid``."""
    key = session_key(KIND[alg])
    client_id = factory.client(scopes=["jobs", "introspect"], jwks=public_pem(key)).client_id
    signing_key = JOSERFC_KEYS[KIND[alg]].import_key(private_pem(key))
    url = live_server.url
    auth = PrivateKeyJWT(f"{url}/token", alg=alg)
    with warnings.catch_warnings():
        if alg == "EdDSA":  # joserfc, on the client's side, prefers RFC 9864's name
            warnings.simplefilter("ignore", SecurityWarning)
        # the revocation endpoint's method must be given too, or Authlib sends the private
        # key as an HTTP Basic password there (README: "Key clients")
        with OAuth2Session(
            client_id,
            signing_key,
            token_endpoint_auth_method=auth,
            revocation_endpoint_auth_method=auth,
            scope="jobs",
        ) as session:
            token = session.fetch_token(f"{url}/token", grant_type="client_credentials")
            access = token["access_token"]
            seen = session.introspect_token(f"{url}/introspect", token=access).json()
            revoked = session.revoke_token(f"{url}/revoke", token=access)
            time.sleep(1.1)  # a revocation is honoured by every worker within a second
            after = session.introspect_token(f"{url}/introspect", token=access).json()
    assert token["token_type"] == "Bearer" and token["scope"] == "jobs"
    assert seen["active"] is True and seen["client_id"] == client_id
    assert revoked.status_code == 200
    assert after == {"active": False}
    assert has_no_secret(app, client_id)


@pytest.mark.parametrize("kty", ["EC", "Ed25519"])
def test_openid_client_private_key_jwt(
    app, live_server: LiveServer, factory: Factory, tmp_path: Path, kty
):
    """openid-client v6 signs ``aud`` = the issuer, ``exp`` = now + 60, ``alg`` ``ES256`` or
    ``Ed25519`` (RFC 9864's name), no ``kid``, and sends ``client_id`` beside the assertion.
    The EC client is registered with a second (RSA) key: the right one is found without kid."""
    node = node_or_skip()
    folder = openid_client_folder()
    key = session_key("ec" if kty == "EC" else "ed")
    jwks = jwk_set(key, session_key("rsa")) if kty == "EC" else public_pem(key)
    client_id = factory.client(scopes=["jobs", "introspect"], jwks=jwks).client_id
    key_file = tmp_path / "key.pem"
    key_file.write_text(private_pem(key))
    env = {"ISSUER": live_server.url, "CLIENT_ID": client_id, "KEY": str(key_file), "KTY": kty}
    done = subprocess.run(
        [node, "pkjwt.mjs"],
        cwd=folder,
        env={"PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert "private_key_jwt" in result["token_endpoint_auth_methods_supported"]
    assert result["token_type"].lower() == "bearer" and result["scope"] == "jobs"
    assert result["before"]["active"] is True and result["before"]["client_id"] == client_id
    assert result["after"] == {"active": False}
    assert has_no_secret(app, client_id)


def test_one_assertion_is_accepted_once_across_workers(live_server: LiveServer, factory: Factory):
    """32 simultaneous posts of one assertion, on new connections shared by both workers."""
    key = session_key("ec")
    client_id = factory.client(jwks=public_pem(key)).client_id
    value = assertion(client_id, key, "ES256", live_server.url)
    data = {**CC, **assertion_form(value)}

    def post(_: int) -> int:
        return requests.post(f"{live_server.url}/token", data=data, timeout=TIMEOUT).status_code

    with ThreadPoolExecutor(max_workers=32) as pool:
        statuses = list(pool.map(post, range(32)))
    assert sorted(statuses) == [200] + [401] * 31


def test_replaced_keys_stop_within_a_second(
    live_server: LiveServer, factory: Factory, tmp_path: Path
):
    old, new = session_key("ec"), session_key("ec", 4)
    client_id = factory.client(jwks=public_pem(old)).client_id
    for _ in range(6):  # every worker has the client's keys in its cache
        assert post_assertion(live_server.url, client_id, old).status_code == 200
    key_file = tmp_path / "new.pem"
    key_file.write_text(public_pem(new))
    result = run_cli(
        live_server.env, "clients", "set-keys", client_id, "--jwks", str(key_file), cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    exited = time.monotonic()
    while post_assertion(live_server.url, client_id, old).status_code == 200:
        assert time.monotonic() - exited < 1.0, "the replaced key still works after a second"
        time.sleep(0.05)
    for _ in range(10):
        assert post_assertion(live_server.url, client_id, old).status_code == 401
        assert post_assertion(live_server.url, client_id, new).status_code == 200

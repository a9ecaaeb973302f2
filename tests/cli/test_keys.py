"""``gatehouse keys list|rotate``."""

from __future__ import annotations

import stat

import jwt

from tests.cli.helpers import as_json, ok


def _token_kid(http, factory) -> str:
    creds = factory.client()
    response = http.post("/token", data={"grant_type": "client_credentials"}, headers=creds.basic)
    assert response.status_code == 200, response.json
    return jwt.get_unverified_header(response.json["access_token"])["kid"]


def test_list(gh, keys_dir):
    [record] = as_json(gh("keys", "list", "--json"))
    assert record["kid"] == next(keys_dir.glob("*.pem")).stem
    assert record["alg"] == "RS256"
    assert record["state"] == "active"
    assert record["retired_at"] is None
    text = ok(gh("keys", "list")).stdout
    assert record["kid"] in text and "active" in text


def test_rotate_makes_the_new_key_the_signer_and_retires_the_old(gh, http, factory, keys_dir):
    [old] = as_json(gh("keys", "list", "--json"))
    assert _token_kid(http, factory) == old["kid"]

    new = as_json(gh("keys", "rotate", "--json"))
    assert new["kid"] != old["kid"]
    assert new["alg"] == "RS256"
    assert new["state"] == "active"
    path = keys_dir / f"{new['kid']}.pem"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600

    listed = as_json(gh("keys", "list", "--json"))
    assert [k["kid"] for k in listed] == [old["kid"], new["kid"]]
    assert [k["state"] for k in listed] == ["retired", "active"]
    assert listed[0]["retired_at"] is not None
    assert listed[0]["published_until"] is not None

    assert _token_kid(http, factory) == new["kid"]
    jwks = {k["kid"] for k in http.get("/.well-known/jwks.json").json["keys"]}
    assert {old["kid"], new["kid"]} <= jwks


def test_rotate_with_another_algorithm(gh, http, factory):
    new = as_json(gh("keys", "rotate", "--alg", "ES256", "--json"))
    assert new["alg"] == "ES256"
    creds = factory.client()
    response = http.post("/token", data={"grant_type": "client_credentials"}, headers=creds.basic)
    header = jwt.get_unverified_header(response.json["access_token"])
    assert (header["kid"], header["alg"]) == (new["kid"], "ES256")


def test_rotate_text_output(gh):
    result = ok(gh("keys", "rotate"))
    assert "new signing key" in result.stdout


def test_rotate_refuses_an_unknown_algorithm(gh, keys_dir):
    before = sorted(keys_dir.glob("*.pem"))
    result = gh("keys", "rotate", "--alg", "HS256")
    assert result.exit_code != 0
    assert "HS256" in result.stderr
    assert sorted(keys_dir.glob("*.pem")) == before

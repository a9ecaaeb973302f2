"""``gatehouse clients create --jwks/--allow-from``, ``clients set-keys``, ``clients set-networks``
and what ``clients list --json`` says about keys, networks and use."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.assertions import (
    assertion,
    assertion_form,
    private_pem,
    public_jwk,
    public_pem,
    session_key,
)
from tests.cli.helpers import as_json, failed, ok, row_counts
from tests.conftest import ISSUER
from tests.helpers import basic_auth

OWNER = "rep@example.com"


@pytest.fixture
def owner(factory) -> str:
    return factory.user(OWNER, role="member", services=["jobs"])


@pytest.fixture
def create(gh, owner, tmp_path: Path):
    """``create(*extra)`` -> ``gatehouse clients create … *extra``; ``keyfile(text)`` writes one."""

    def run(*extra: str):
        expires = (datetime.now(UTC).date() + timedelta(days=30)).isoformat()
        return gh(
            "clients", "create", "--owner", owner, "--name", "nightly", "--services", "jobs",
            "--expires", expires, *extra,
        )  # fmt: skip

    return run


def keyfile(tmp_path: Path, text: str, name: str = "key") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def post_assertion(http, client_id: str, key) -> int:
    value = assertion(client_id, key, "ES256", ISSUER)
    data = {"grant_type": "client_credentials", **assertion_form(value)}
    return http.post("/token", data=data).status_code


def test_create_a_key_client_from_a_pem(create, tmp_path, http):
    key = session_key("ec")
    record = as_json(create("--jwks", keyfile(tmp_path, public_pem(key)), "--json"))
    assert record["client_secret"] is None
    assert record["token_endpoint_auth_method"] == "private_key_jwt"
    assert post_assertion(http, record["client_id"], key) == 200


def test_create_a_key_client_from_a_jwk_set_and_read_it_from_stdin(gh, owner, http):
    key = session_key("ec")
    expires = (datetime.now(UTC).date() + timedelta(days=30)).isoformat()
    result = gh(
        "clients", "create", "--owner", owner, "--name", "stdin", "--services", "jobs",
        "--expires", expires, "--jwks", "-",
        input=json.dumps({"keys": [public_jwk(key, kid="k1")]}),
    )  # fmt: skip
    text = ok(result).stdout
    assert "private_key_jwt" in text and "no secret" in text and "gts_" not in text


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (lambda: private_pem(session_key("ec")), "private key"),
        (lambda: json.dumps({"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}), "symmetric"),
        (lambda: "hello", "JWK Set nor a PEM"),
    ],
    ids=["private key", "symmetric key", "garbage"],
)
def test_a_bad_key_file_is_one_clear_line_and_nothing_written(app, create, tmp_path, text, says):
    before = row_counts(app)
    failed(create("--jwks", keyfile(tmp_path, text())), says)
    assert row_counts(app) == before


def test_a_missing_key_file_is_a_clear_error(create, tmp_path):
    result = create("--jwks", str(tmp_path / "absent.pem"))
    assert result.exit_code != 0 and "absent.pem" in result.stderr


def test_allow_from_binds_the_client(create, http):
    record = as_json(create("--allow-from", "192.0.2.0/24, 2001:db8::/32", "--json"))
    assert record["allowed_networks"] == ["192.0.2.0/24", "2001:db8::/32"]
    headers = basic_auth(record["client_id"], record["client_secret"])
    data = {"grant_type": "client_credentials"}
    inside = http.post(
        "/token", data=data, headers=headers, environ_base={"REMOTE_ADDR": "192.0.2.1"}
    )
    outside = http.post("/token", data=data, headers=headers)  # 127.0.0.1
    assert (inside.status_code, outside.status_code) == (200, 401)


@pytest.mark.parametrize("networks", ["10.0.0.0/33", "10.0.0.1/8", "localhost"])
def test_an_impossible_network_is_one_clear_line(app, create, networks):
    before = row_counts(app)
    failed(create("--allow-from", networks), networks)
    assert row_counts(app) == before


def test_set_keys_replaces_the_keys(create, gh, tmp_path, http):
    old, new = session_key("ec"), session_key("ec", 3)
    record = as_json(create("--jwks", keyfile(tmp_path, public_pem(old)), "--json"))
    client_id = record["client_id"]
    result = as_json(
        gh("clients", "set-keys", client_id, "--jwks", keyfile(tmp_path, public_pem(new)), "--json")
    )
    assert result["token_endpoint_auth_method"] == "private_key_jwt"
    assert post_assertion(http, client_id, old) == 401
    assert post_assertion(http, client_id, new) == 200
    text = ok(gh("clients", "set-keys", client_id, "--jwks", keyfile(tmp_path, public_pem(old))))
    assert "now accepts the keys" in text.stdout


def test_set_keys_on_a_secret_client_or_a_stranger(create, gh, tmp_path):
    secret_client = as_json(create("--json"))["client_id"]
    pem = keyfile(tmp_path, public_pem(session_key("ec")))
    failed(gh("clients", "set-keys", secret_client, "--jwks", pem), "authenticates with a secret")
    failed(gh("clients", "set-keys", "no-such-client", "--jwks", pem), "no client")


def test_set_networks_and_back_to_anywhere(create, gh):
    client_id = as_json(create("--json"))["client_id"]
    record = as_json(
        gh("clients", "set-networks", client_id, "--allow-from", "192.0.2.7", "--json")
    )
    assert record["allowed_networks"] == ["192.0.2.7/32"]
    text = ok(gh("clients", "set-networks", client_id, "--allow-from", "")).stdout
    assert "anywhere" in text
    [listed] = as_json(gh("clients", "list", "--json"))
    assert listed["allowed_networks"] == []
    failed(gh("clients", "set-networks", client_id, "--allow-from", "192.0.2.300"), "192.0.2.300")
    result = gh("clients", "set-networks", client_id)
    assert result.exit_code != 0 and "--allow-from" in result.stderr


def test_list_json_says_how_and_from_where_each_client_was_used(create, gh, http, tmp_path):
    secret_client = as_json(create("--json"))
    headers = basic_auth(secret_client["client_id"], secret_client["client_secret"])
    http.post(
        "/token",
        data={"grant_type": "client_credentials"},
        headers=headers,
        environ_base={"REMOTE_ADDR": "192.0.2.55"},
    ).close()  # the use is written once the response is sent
    key_client = as_json(
        gh(
            "clients",
            "create",
            "--owner",
            OWNER,
            "--name",
            "keyed",
            "--services",
            "jobs",
            "--expires",
            (datetime.now(UTC).date() + timedelta(days=9)).isoformat(),
            "--jwks",
            keyfile(tmp_path, public_pem(session_key("ec"))),
            "--json",
        )  # fmt: skip
    )
    listed = {r["client_id"]: r for r in as_json(gh("clients", "list", "--json"))}
    used = listed[secret_client["client_id"]]
    assert used["last_used_ip"] == "192.0.2.55" and used["last_used_at"]
    assert used["token_endpoint_auth_method"] == "client_secret_basic"
    keyed = listed[key_client["client_id"]]
    assert keyed["token_endpoint_auth_method"] == "private_key_jwt"
    assert keyed["jwks"]["keys"][0]["kty"] == "EC"
    text = ok(gh("clients", "list")).stdout
    assert "from 192.0.2.55" in text

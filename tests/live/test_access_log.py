"""``gatehouse serve --access-log``: one line per request, and never a secret in it.

Credentials sent in a query string are refused, but the access line is written
anyway: no parameter value a client put in the URL (or in a ``Referer``) may
reach the log, on any path.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from app.security.secrets import generate_secret
from tests.conftest import Factory
from tests.live.server import LiveServer, free_port, running_server, server_env

TIMEOUT = 10


@pytest.fixture(scope="module")
def logged_server(
    database_url: str, session_key_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    root = tmp_path_factory.mktemp("access-log")
    shutil.copytree(session_key_dir, root / "keys")
    port = free_port()
    env = server_env(database_url, root / "keys", root / "instance", f"http://127.0.0.1:{port}")
    with running_server(env, port, root / "server.log", workers=1, args=["--access-log"]) as server:
        yield server


def _logged(server: LiveServer, marker: str) -> str:
    """The access line holding ``marker`` (a path only this request used), once written."""
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        lines = [line for line in server.log().splitlines() if marker in line]
        if lines:
            return lines[-1]
        time.sleep(0.05)
    raise AssertionError(f"no access line for {marker}:\n{server.log()[-3000:]}")


def test_a_secret_in_the_token_query_string_is_refused_and_never_logged(
    logged_server: LiveServer, factory: Factory, server_logs: list[LiveServer]
) -> None:
    server_logs.append(logged_server)
    creds = factory.client()
    response = requests.post(
        f"{logged_server.url}/token",
        params={"client_id": creds.client_id, "client_secret": creds.secret},
        data={"grant_type": "client_credentials"},
        headers={"Referer": f"https://app.example/cb?client_secret={creds.secret}"},
        timeout=TIMEOUT,
    )
    assert response.status_code == 400, response.text
    assert "query string" in response.json()["error_description"]
    line = _logged(logged_server, "client_secret")
    entry = json.loads(line)  # the request is logged, as one JSON object
    assert (entry["method"], entry["status"]) == ("POST", 400), entry
    assert entry["target"].startswith("/token?"), entry
    assert creds.secret not in logged_server.log()
    assert creds.secret[4:20] not in logged_server.log()  # not even in another encoding


def test_a_secret_in_the_feed_query_string_gets_the_query_string_answer(
    logged_server: LiveServer, factory: Factory, server_logs: list[LiveServer]
) -> None:
    server_logs.append(logged_server)
    spy = factory.introspector()
    response = requests.get(
        f"{logged_server.url}/revocations",
        params={"since": "0", "client_id": spy.client_id, "client_secret": spy.secret},
        timeout=TIMEOUT,
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_request"
    assert "query string" in response.json()["error_description"]
    line = _logged(logged_server, "GET /revocations")
    assert "since" in line, line
    assert spy.secret not in logged_server.log()


@pytest.mark.parametrize("path", ["/introspect", "/revoke", "/tokens", "/login", "/nowhere"])
def test_no_parameter_value_reaches_the_log_on_any_path(
    logged_server: LiveServer, server_logs: list[LiveServer], path: str
) -> None:
    server_logs.append(logged_server)
    secret = generate_secret()
    requests.request(
        "POST" if path in ("/introspect", "/revoke") else "GET",
        f"{logged_server.url}{path}",
        params={"access_token": secret, "next": f"/x?token={secret}", "q": secret},
        timeout=TIMEOUT,
        allow_redirects=False,
    )
    line = _logged(logged_server, f" {path}?")
    assert "access_token" in line, line  # parameter names stay, to show what was sent
    assert secret not in logged_server.log()
    assert secret[4:20] not in logged_server.log()

"""``X-Request-Id`` on every answer, trusted from a proxy only, and in the log lines of the
request: a client holding a failed ``/token`` answer can point the operator at its lines."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import pytest

from app.security.secrets import generate_secret
from tests.helpers import basic_auth
from tests.oauth.helpers import CC

GENERATED = re.compile(r"[0-9a-f]{32}")


def failure_lines(logged: Callable[[], list[dict]]) -> list[dict]:
    return [entry for entry in logged() if entry.get("event") == "client_auth_failed"]


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/token"), ("GET", "/healthz"), ("GET", "/login"), ("GET", "/no/such/page")],
)
def test_every_answer_carries_a_fresh_request_id(http, method, path):
    first = http.open(path, method=method, data=CC if method == "POST" else None)
    second = http.open(path, method=method, data=CC if method == "POST" else None)
    ids = [first.headers["X-Request-Id"], second.headers["X-Request-Id"]]
    assert all(GENERATED.fullmatch(i) for i in ids) and ids[0] != ids[1]


def test_an_incoming_id_is_ignored_without_a_trusted_proxy(http):
    response = http.get("/healthz", headers={"X-Request-Id": "from-the-client-1234"})
    assert GENERATED.fullmatch(response.headers["X-Request-Id"])


@pytest.fixture
def behind_proxy(config):
    config["GATEHOUSE_TRUSTED_PROXIES"] = "1"
    return config


@pytest.mark.parametrize(
    ("incoming", "kept"),
    [
        ("f3b1c2d4-9a8e-4b7c-8d6e-5f4a3b2c1d0e", True),
        ("Root=1-67891233-abcdef012345678912345678", True),
        ("a" * 128, True),
        ("a" * 129, False),
        ("two words", False),
        ("line\r\nbreak", False),
        ("<script>", False),
        ("", False),
    ],
)
def test_a_trusted_proxy_s_id_is_kept_when_it_looks_like_one(behind_proxy, http, incoming, kept):
    environ = {"HTTP_X_REQUEST_ID": incoming}  # werkzeug's client refuses a CR LF header
    answer = http.get("/healthz", environ_base=environ).headers["X-Request-Id"]
    assert (answer == incoming) is kept
    if not kept:
        assert GENERATED.fullmatch(answer)


def test_a_failed_token_request_is_logged_with_its_id_and_reason(http, factory, logged):
    creds = factory.client()
    response = http.post("/token", data=CC, headers=basic_auth(creds.client_id, generate_secret()))
    assert response.status_code == 401
    (line,) = failure_lines(logged)
    assert line["request_id"] == response.headers["X-Request-Id"]
    assert line["reason"] == "unknown_or_wrong"
    assert line["client_id"] == creds.client_id and line["path"] == "/token"
    assert line["address"] == "127.0.0.1" and line["level"] == "info"


def test_a_secret_sent_as_the_client_id_never_reaches_the_log(http, factory, logged):
    """A confused integration swaps its id and secret: the log names no client then."""
    creds = factory.client()
    form = CC | {"client_id": creds.secret, "client_secret": creds.client_id}
    assert http.post("/token", data=form).status_code == 401
    (line,) = failure_lines(logged)
    assert line["client_id"] is None
    assert creds.secret not in json.dumps(logged())


def test_a_success_writes_no_log_line(http, factory, logged):
    creds = factory.client()
    assert http.post("/token", data=CC, headers=creds.basic).status_code == 200
    assert logged() == []

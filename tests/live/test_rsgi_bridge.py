"""``app.cli.granian_rsgi`` under a real Granian: the environ a WSGI app sees, the body
deadline and limit, and which requests run on the event loop.

The app is ``tests/live/rsgi_echo.py`` (1 KiB body limit, 1 s body deadline); the
same bridge serves Gatehouse itself in every other live test.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.helpers import clean_environment
from tests.live import rsgi_echo
from tests.live.calls import response_complete
from tests.live.server import LiveServer, free_port, stop

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def echo_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    log = tmp_path_factory.mktemp("rsgi-echo") / "granian.log"
    command = [
        sys.executable, "-m", "granian", "--interface", "rsgi", "--loop", "uvloop",
        "--factory", "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
        "tests.live.rsgi_echo:create",
    ]  # fmt: skip
    env = clean_environment()
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    server = LiveServer(f"http://127.0.0.1:{port}", port, env, ROOT, log, process)
    try:
        server.wait_ready()  # the echo app answers /readyz like any path
        yield server.url
    finally:
        stop([server])


def _raw(url: str, request: bytes, wait: float = 5.0) -> bytes:
    """Send REQUEST as is on a new connection; the one response it gets."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=wait) as sock:
        sock.sendall(request)
        answer = b""
        while not response_complete(answer) and (chunk := sock.recv(65536)):
            answer += chunk
        return answer


def test_the_environ_is_pep_3333(echo_url: str):
    response = requests.post(
        echo_url + "/caf%C3%A9/x%20y?a=%20b&a=c",
        data="grant_type=client_credentials",
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Repeated": "one",
            "Cookie": "a=1",
        },
    )
    answer = response.json()
    env = answer["environ"]
    assert env["REQUEST_METHOD"] == "POST"
    assert env["PATH_INFO"] == "/café/x y".encode().decode("latin-1")  # bytes as latin-1
    assert env["QUERY_STRING"] == "a=%20b&a=c"
    assert env["CONTENT_TYPE"] == "application/x-www-form-urlencoded"
    assert env["CONTENT_LENGTH"] == "29"
    assert env["REMOTE_ADDR"] == "127.0.0.1"
    assert (env["SERVER_NAME"], env["SERVER_PORT"]) == ("127.0.0.1", echo_url.rsplit(":")[-1])
    assert env["SERVER_PROTOCOL"] == "HTTP/1.1"
    assert env["wsgi.url_scheme"] == "http"
    assert env["HTTP_X_REPEATED"] == "one"
    assert env["HTTP_COOKIE"] == "a=1"
    assert "HTTP_CONTENT_TYPE" not in env
    assert answer["body"] == "grant_type=client_credentials"


def test_repeated_headers_are_joined_and_underscored_names_dropped(echo_url: str):
    answer = _raw(
        echo_url,
        b"GET /h HTTP/1.1\r\nHost: x\r\nX-Repeated: one\r\nX-Repeated: two\r\n"
        b"Cookie: a=1\r\nCookie: b=2\r\n"
        b"X_Forwarded_For: 203.0.113.9\r\nConnection: close\r\n\r\n",
    )
    env = json.loads(answer.split(b"\r\n\r\n", 1)[1])["environ"]
    assert env["HTTP_X_REPEATED"] == "one,two"
    assert env["HTTP_COOKIE"] == "a=1; b=2"  # RFC 9113 §8.2.3: cookies join with "; "
    # a client must not pose as a proxy's X-Forwarded-For with an underscore
    assert "HTTP_X_FORWARDED_FOR" not in env


def test_a_body_not_sent_in_time_is_refused_with_408(echo_url: str):
    started = time.monotonic()
    answer = _raw(
        echo_url,
        b"POST /t HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly part of it",
    )
    waited = time.monotonic() - started
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert rsgi_echo.BODY_TIMEOUT <= waited < rsgi_echo.BODY_TIMEOUT + 2


def test_a_chunked_body_over_the_limit_is_read_no_further(echo_url: str):
    """Memory stays bounded: reading stops at the chunk that passes the limit, and the
    app, seeing more than its limit, refuses it (Gatehouse: ``tests/live/test_body_limits.py``)."""
    chunk = b"a" * 600
    request = (
        b"POST /raw HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        + (b"258\r\n" + chunk + b"\r\n") * 4  # 0x258 = 600 bytes a chunk, 2,400 in all
        + b"0\r\n\r\n"
    )
    answer = _raw(echo_url, request)
    assert answer.startswith(b"HTTP/1.1 200 ")
    length = int(answer.rsplit(b'"length":', 1)[1].split(b"}")[0])
    assert rsgi_echo.MAX_BODY < length <= rsgi_echo.MAX_BODY + len(chunk)


@pytest.mark.parametrize("length", [b"abc", b"-1", b"5\r\nContent-Length: 6"])
def test_a_malformed_content_length_is_refused_before_the_app(echo_url: str, length: bytes):
    """RFC 9112 §6.3: an invalid or conflicting length is a 400; the body is never read
    and the app never runs (it would answer JSON)."""
    answer = _raw(
        echo_url,
        b"POST /t HTTP/1.1\r\nHost: x\r\nContent-Length: " + length
        + b"\r\nConnection: close\r\n\r\nhello",
    )  # fmt: skip
    assert answer.startswith(b"HTTP/1.1 400 ")
    assert b'"environ"' not in answer


def test_a_declared_length_over_the_limit_is_refused_unread(echo_url: str):
    response = requests.post(echo_url + "/t", data=b"a" * (rsgi_echo.MAX_BODY + 1))
    assert response.status_code == 413


def test_a_small_chunked_body_arrives_whole(echo_url: str):
    answer = _raw(
        echo_url,
        b"POST /t HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
    )
    assert b'"body":"hello world"' in answer


def test_token_requests_run_on_the_loop_while_other_requests_wait_in_threads(echo_url: str):
    """A slow request (a password hash, a lock wait) elsewhere never holds /token up."""
    slow: dict[str, object] = {}

    def call_slow() -> None:
        started = time.monotonic()
        slow["thread"] = requests.post(echo_url + "/slow").json()["thread"]
        slow["seconds"] = time.monotonic() - started

    caller = threading.Thread(target=call_slow)
    caller.start()
    time.sleep(0.2)  # the slow request is in its thread by now
    started = time.monotonic()
    token = requests.post(echo_url + "/token", data="x=1")
    fast_seconds = time.monotonic() - started
    caller.join()
    assert fast_seconds < rsgi_echo.SLOW_SECONDS / 2
    assert slow["seconds"] >= rsgi_echo.SLOW_SECONDS
    assert str(slow["thread"]).startswith("gatehouse-app")
    assert not token.json()["thread"].startswith("gatehouse-app")

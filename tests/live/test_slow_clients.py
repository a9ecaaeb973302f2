"""Clients that send their request body slowly cannot stop the server.

Sixty-four connections each announce a 100-byte ``POST /token`` body, send 29 bytes
and then nothing. For the next 8 s an integration's ``/token`` requests must keep
their usual speed: p99 under 50 ms. Then each stalled request is answered 408 once
its body deadline has passed. (Under a sync server two such connections stalled
every worker until its 30 s timeout; under Granian's WSGI interface each held one
of a worker's threads, so 32 held two workers.)
"""

from __future__ import annotations

import socket
import time
from contextlib import ExitStack

import requests

from app.cli.granian_rsgi import BODY_TIMEOUT
from tests.conftest import Factory
from tests.live.server import LiveServer

SLOW_CLIENTS = 64
HOLD_SECONDS = 8.0  # shorter than the body deadline: every stalled request is open throughout
P99_LIMIT = 0.050


def _stall(url: str) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    stalled = socket.create_connection((host, int(port)), timeout=5)
    head = (
        f"POST /token HTTP/1.1\r\nHost: {host}:{port}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\n"
    )
    stalled.sendall(head.encode() + b"grant_type=client_credential")  # 28 + 1 below
    stalled.sendall(b"s")
    return stalled


def test_slow_bodies_do_not_slow_token_requests(live_server: LiveServer, factory: Factory):
    creds = factory.client()
    with requests.Session() as integration, ExitStack() as stack:
        integration.auth = (creds.client_id, creds.secret)

        def token() -> float:
            started = time.perf_counter()
            answer = integration.post(
                f"{live_server.url}/token", data={"grant_type": "client_credentials"}, timeout=5
            )
            assert answer.status_code == 200, answer.text
            return time.perf_counter() - started

        for _ in range(20):  # warm: both workers have the client and a connection
            token()
        stalled_at = time.monotonic()
        stalled = [stack.enter_context(_stall(live_server.url)) for _ in range(SLOW_CLIENTS)]
        timings = []
        deadline = time.monotonic() + HOLD_SECONDS
        while time.monotonic() < deadline:
            timings.append(token())
        answers = [_answer(sock) for sock in stalled]
        waited = time.monotonic() - stalled_at
    timings.sort()
    p99 = timings[int(len(timings) * 0.99) - 1]
    assert len(timings) > 200 and p99 < P99_LIMIT, (len(timings), p99, timings[-5:])
    assert all(answer.startswith(b"HTTP/1.1 408 ") for answer in answers), set(answers)
    assert waited < BODY_TIMEOUT + 5


def _answer(stalled: socket.socket) -> bytes:
    """The status line the server sends a stalled request (after its body deadline)."""
    stalled.settimeout(BODY_TIMEOUT + 5)
    return stalled.recv(100).split(b"\r\n", 1)[0] + b"\r\n"

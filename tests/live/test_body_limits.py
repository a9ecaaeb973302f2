"""A body over 64 KiB is 413 on a real server, however its length is conveyed."""

from __future__ import annotations

import socket
import threading
from contextlib import suppress

import pytest

from tests.conftest import Credentials, Factory
from tests.live.calls import response_complete
from tests.live.server import LiveServer

LIMIT = 64 * 1024
TIMEOUT = 10


def _chunked_post(url: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, str]:
    """POST ``body`` with ``Transfer-Encoding: chunked`` (no length declared); the status line
    and body of the answer. The body is sent from a thread while the answer is read: a server
    may answer (413) before it has read everything, and then stop reading."""
    host, port = url.removeprefix("http://").split(":")
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}:{port}", "Transfer-Encoding: chunked"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    head = ("\r\n".join(lines) + "\r\n\r\n").encode()
    chunks = [body[i : i + 8192] for i in range(0, len(body), 8192)]
    data = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for chunk in chunks) + b"0\r\n\r\n"
    with socket.create_connection((host, int(port)), timeout=TIMEOUT) as sock:

        def send() -> None:
            # the server may answer and close before taking the rest
            with suppress(OSError):
                sock.sendall(head + data)

        sender = threading.Thread(target=send, daemon=True)
        sender.start()
        answer = b""
        # unread body left behind may reset the connection: what came before is kept
        with suppress(ConnectionResetError):
            while not response_complete(answer) and (chunk := sock.recv(65536)):
                answer += chunk
        sender.join(TIMEOUT)
    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line, "no answer"
    return int(status_line.split()[1]), rest.partition(b"\r\n\r\n")[2].decode(errors="replace")


def _form(creds: Credentials, size: int) -> bytes:
    """A token request padded to ``size`` bytes, then a repeated ``scope`` that a cut body
    would silently drop."""
    start = f"grant_type=client_credentials&client_id={creds.client_id}"
    start += f"&client_secret={creds.secret}&pad="
    tail = b"&scope=jobs"
    return start.encode() + b"p" * (size - len(start) - len(tail)) + tail


@pytest.mark.parametrize("size", [70_000, 5 * 1024 * 1024])
def test_a_chunked_token_request_over_64_kib_is_413(
    live_server: LiveServer, factory: Factory, size: int
) -> None:
    creds = factory.client()
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    status, body = _chunked_post(live_server.url, "/token", form, _form(creds, size))
    assert status == 413, body
    assert "invalid_request" in body and "64 KiB" in body


def test_a_chunked_token_request_under_the_limit_is_served(
    live_server: LiveServer, factory: Factory
) -> None:
    creds = factory.client()
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    status, body = _chunked_post(live_server.url, "/token", form, _form(creds, 60_000))
    assert status == 200, body
    assert '"access_token"' in body

"""``gatehouse serve``: Granian (the default) or gunicorn serves the app, a restart loses
nothing, a busy port fails."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import pytest
import requests
from sqlalchemy import select

from app.extensions import db
from app.models import Client
from tests.conftest import Factory
from tests.live.calls import access_token, introspect, jwt_header
from tests.live.server import LiveServer, free_port, run_cli, running_server, server_env
from tests.metrics_helpers import answered, in_files, tokens


def _serves(server: LiveServer, factory: Factory) -> list[dict]:
    """The server answers health, readiness and a token, and logs JSON lines only."""
    health = requests.get(f"{server.url}/healthz", timeout=10)
    assert health.status_code == 200
    assert health.json() == {"status": "ok"}
    ready = requests.get(f"{server.url}/readyz", timeout=10)
    assert ready.status_code == 200, ready.text
    assert ready.json()["status"] == "ready"
    assert jwt_header(access_token(server.url, factory.client()))["typ"] == "at+jwt"
    return [json.loads(line) for line in server.log().splitlines() if line.strip()]


def test_granian_serves_by_default(live_server: LiveServer, factory: Factory) -> None:
    lines = _serves(live_server, factory)
    started = [line["message"] for line in lines if line["logger"].startswith("_granian")]
    assert sum("Started worker" in message for message in started) >= 2, started  # --workers 2


def test_gunicorn_serves_when_asked(
    factory: Factory, database_url: str, keys_dir: Path, tmp_path: Path, server_logs
) -> None:
    port = free_port()
    env = server_env(database_url, keys_dir, tmp_path / "instance", f"http://127.0.0.1:{port}")
    args = ["--server", "gunicorn"]
    with running_server(env, port, tmp_path / "server.log", args=args) as server:
        server_logs.append(server)
        lines = _serves(server, factory)
        assert requests.get(f"{server.url}/healthz", timeout=10).headers["Server"] == "gunicorn"
    assert sum("Booting worker" in line["message"] for line in lines) >= 2
    # stopped (SIGTERM) right after its one token: the worker that issued it handed over its
    # tallied counts as it ended (``atexit``), sooner than the tally's thread would
    counted = in_files(tmp_path / "instance" / "metrics" / f"127.0.0.1_{port}")
    assert (tokens(counted), answered(counted, "/token")) == (1, 1)


@pytest.mark.parametrize("server_name", ["granian", "gunicorn"])
def test_serve_listens_on_an_ipv6_host(
    server_name: str,
    factory: Factory,
    database_url: str,
    keys_dir: Path,
    tmp_path: Path,
    server_logs,
) -> None:
    """``gatehouse serve --host ::1``: the server answers on [::1], and only there."""
    port = free_port()
    env = server_env(database_url, keys_dir, tmp_path / "instance", f"http://[::1]:{port}")
    args = ["--server", server_name]
    with running_server(env, port, tmp_path / "server.log", args=args, host="::1") as server:
        server_logs.append(server)
        assert server.url == f"http://[::1]:{port}"
        _serves(server, factory)
        with pytest.raises(requests.ConnectionError):
            requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5)


def test_restart_loses_nothing(
    factory: Factory,
    database_url: str,
    keys_dir: Path,
    tmp_path: Path,
    server_logs: list[LiveServer],
) -> None:
    creds = factory.client(scopes=["jobs", "candidates"])
    spy = factory.introspector()
    port = free_port()
    env = server_env(database_url, keys_dir, tmp_path / "instance", f"http://127.0.0.1:{port}")

    with running_server(env, port, tmp_path / "first.log", workers=1) as first:
        server_logs.append(first)
        token = access_token(first.url, creds)
        dropped = access_token(first.url, creds)
        revoked = requests.post(
            f"{first.url}/revoke",
            data={"token": dropped},
            auth=(creds.client_id, creds.secret),
            timeout=10,
        )
        assert revoked.status_code == 200, revoked.text
        assert introspect(first.url, spy, token)["active"] is True
        assert introspect(first.url, spy, dropped) == {"active": False}

    with running_server(env, port, tmp_path / "second.log", workers=1) as second:
        server_logs.append(second)
        result = introspect(second.url, spy, token)
        assert result["active"] is True, result
        assert result["client_id"] == creds.client_id
        assert result["scope"] == "candidates jobs"
        assert introspect(second.url, spy, dropped) == {"active": False}  # the denylist too
        fresh = access_token(second.url, creds)
        assert jwt_header(fresh)["kid"] == jwt_header(token)["kid"]  # the same key, kept
        assert introspect(second.url, spy, fresh)["active"] is True


def test_serve_on_a_busy_port_fails_with_a_clear_message(
    database_url: str, keys_dir: Path, tmp_path: Path
) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        env = server_env(
            database_url,
            keys_dir,
            tmp_path / "instance",
            f"http://127.0.0.1:{port}",
            XDG_RUNTIME_DIR=str(tmp_path),
        )
        result = run_cli(env, "serve", "--port", str(port), "--workers", "1", cwd=tmp_path)

    assert result.returncode != 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines, "nothing on stderr"
    # errors are "a one-line message on stderr naming what was wrong"
    assert str(port) in lines[-1] and "in use" in lines[-1].lower(), result.stderr


def test_the_server_runs_the_usage_write_after_the_response(
    live_server: LiveServer, factory: Factory, app
) -> None:
    """The last-use write is after-response work (WSGI ``close``): the server must run it."""
    creds = factory.client()
    access_token(live_server.url, creds)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        with app.app_context():
            used = db.session.scalar(
                select(Client.last_used_at).where(Client.client_id == creds.client_id)
            )
        if used is not None:
            return
        time.sleep(0.05)
    raise AssertionError("last_used_at was never written")

"""A real ``gatehouse serve`` (the default server, Granian; two workers) on a free loopback port.

The server shares the test session's database (SQLite, or PostgreSQL when
``GATEHOUSE_TEST_DATABASE_URL`` is set) and its signing key with the in-process
``app`` fixture, so clients made with ``factory`` are the server's clients and
a token of either verifies in both. One server serves the whole session:
tests make their own clients (random ids), so they cannot see each other.
When a test fails, the end of each server's log is added to its report.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.live.server import LiveServer, free_port, running_server, server_env

LOG_TAIL = 80


@pytest.fixture(scope="session")
def live_server(
    database_url: str, session_key_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """``gatehouse serve --workers 2`` on 127.0.0.1:<free port>, ready; stopped at the end."""
    root = tmp_path_factory.mktemp("live")
    keys_dir = root / "keys"
    shutil.copytree(session_key_dir, keys_dir)  # the key each test's ``keys_dir`` holds too
    port = free_port()
    env = server_env(database_url, keys_dir, root / "instance", f"http://127.0.0.1:{port}")
    # the session's tests all come from 127.0.0.1 and many fail on purpose; the failure
    # limit has tests (and servers) of its own
    env["GATEHOUSE_AUTH_FAILURES_PER_MINUTE"] = "100000"
    with running_server(env, port, root / "server.log") as server:
        yield server


@pytest.fixture
def config(config: dict[str, object], live_server: LiveServer) -> dict[str, object]:
    """The in-process app issues and verifies tokens for the live server's issuer."""
    return {**config, "GATEHOUSE_ISSUER": live_server.url}


@pytest.fixture
def server_logs() -> list[LiveServer]:
    """Servers a test starts itself: their logs are shown if the test fails."""
    return []


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    if report.failed:
        funcargs = getattr(item, "funcargs", {})
        servers = list(funcargs.get("server_logs") or [])
        if "live_server" in funcargs:
            servers.insert(0, funcargs["live_server"])
        for server in servers:
            tail = "\n".join(server.log().splitlines()[-LOG_TAIL:])
            report.sections.append((f"gatehouse serve {server.url} (log tail)", tail))
    return report

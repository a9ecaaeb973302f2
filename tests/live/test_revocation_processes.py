"""Revocation within a second across processes: a revocation committed by the CLI is seen by
every worker
of every instance sharing the database within 1 second.

The CLI runs in its own process; the clock starts when it exits (its commit is done by
then). Requests are polled every ~50 ms, each on a new connection so the workers share
them; any acceptance of a request sent more than 1 s after the CLI exited fails the
test, and 20 rounds are made after that second, all of which must refuse.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app import create_app
from app.extensions import db
from app.services import clients, users
from app.services.actors import Actor
from tests.conftest import Credentials, Factory
from tests.live.calls import access_token, introspect, token_response
from tests.live.server import LiveServer, free_port, run_cli, running_servers, server_env

WINDOW = 1.0
POLL = 0.05
ROUNDS_AFTER = 20
WARM_ROUNDS = 6


def _token_refused(url: str, creds: Credentials) -> bool:
    response = token_response(url, creds)
    if response.status_code == 200:
        return False
    assert response.status_code == 401, response.text
    assert response.json()["error"] == "invalid_client", response.text
    return True


def _introspection_refused(url: str, spy: Credentials, token: str) -> bool:
    result = introspect(url, spy, token)
    if result.get("active") is True:
        return False
    assert result == {"active": False}
    return True


def _checks(
    urls: list[str], creds: Credentials, spy: Credentials, token: str
) -> dict[str, Callable[[], bool]]:
    checks: dict[str, Callable[[], bool]] = {}
    for url in urls:
        checks[f"POST {url}/token"] = lambda url=url: _token_refused(url, creds)
        checks[f"POST {url}/introspect"] = lambda url=url: _introspection_refused(url, spy, token)
    return checks


def _warm_up(checks: dict[str, Callable[[], bool]]) -> None:
    """Before: every check accepts, and every worker has the client in its cache."""
    for _ in range(WARM_ROUNDS):
        for name, refused in checks.items():
            assert not refused(), f"{name} refused before the revocation"


def _revoke_and_watch(
    env: dict[str, str], cwd: Path, client_id: str, checks: dict[str, Callable[[], bool]]
) -> None:
    result = run_cli(env, "clients", "revoke", client_id, cwd=cwd)
    exited = time.monotonic()
    assert result.returncode == 0, result.stderr
    assert f"revoked client {client_id}" in result.stdout

    late: list[tuple[str, float]] = []
    first_refusal: dict[str, float] = {}
    rounds_after = 0
    while rounds_after < ROUNDS_AFTER:
        started = time.monotonic()
        for name, refused in checks.items():
            since = time.monotonic() - exited  # when this request was sent
            if refused():
                first_refusal.setdefault(name, round(since, 3))
            elif since > WINDOW:
                late.append((name, round(since, 3)))
        if started - exited > WINDOW:
            rounds_after += 1
        time.sleep(max(0.0, POLL - (time.monotonic() - started)))
    assert not late, (
        f"accepted more than {WINDOW} s after the revocation: {late}; "
        f"first refusals (s after the CLI exited): {first_refusal}"
    )
    assert set(first_refusal) == set(checks)


def test_cli_revocation_reaches_every_worker_within_one_second(
    live_server: LiveServer, factory: Factory
) -> None:
    creds = factory.client(scopes=["jobs"])
    spy = factory.introspector()
    token = access_token(live_server.url, creds)
    checks = _checks([live_server.url], creds, spy, token)
    _warm_up(checks)
    _revoke_and_watch(live_server.env, live_server.cwd, creds.client_id, checks)


# -- two instances on one PostgreSQL database ---------------------------------------


@pytest.fixture
def live_postgres(fresh_postgres: tuple[str, str]) -> str:
    """A throwaway PostgreSQL database of this test's own, whatever the suite runs on (a
    database kept between runs would be left at whatever migration the last checkout
    applied, which another one's ``gatehouse init`` cannot read)."""
    return fresh_postgres[0]


@contextlib.contextmanager
def _service_layer(database_url: str, keys_dir: Path, instance_dir: Path) -> Iterator[None]:
    app = create_app(
        {
            "GATEHOUSE_DATABASE_URL": database_url,
            "GATEHOUSE_KEYS_DIR": keys_dir,
            "GATEHOUSE_INSTANCE_DIR": instance_dir,
        }
    )
    with app.app_context():
        try:
            yield
        finally:
            db.session.rollback()
            db.engine.dispose()


def _make_clients(database_url: str, keys_dir: Path, instance_dir: Path) -> list[Credentials]:
    """An owner of our own with two clients."""
    owner = f"live-{uuid.uuid4().hex[:12]}@example.com"
    expires = datetime.now(UTC).date() + timedelta(days=2)
    with _service_layer(database_url, keys_dir, instance_dir):
        users.create_user(Actor.cli(), owner, "Live Owner", role="admin", services=[])
        made = []
        for name, scopes in (("worker", ["jobs"]), ("resource", ["introspect"])):
            issued = clients.create_client(
                Actor.cli(), owner_email=owner, name=name, scopes=scopes, expires_on=expires
            )
            made.append(Credentials(issued.client.client_id, issued.secret))
    return made


def test_two_instances_on_postgresql_see_a_cli_revocation_within_one_second(
    live_postgres: str, keys_dir: Path, tmp_path: Path, server_logs: list[LiveServer]
) -> None:
    port_a = free_port()
    port_b = next(port for port in iter(free_port, None) if port != port_a)
    issuer = f"http://127.0.0.1:{port_a}"  # instances behind one name share the issuer

    def env(name: str) -> dict[str, str]:
        return server_env(live_postgres, keys_dir, tmp_path / name, issuer)

    made: list[Credentials] = []

    def migrate_and_make_clients() -> None:  # while the servers boot, which needs neither
        init = run_cli(env("cli"), "init", cwd=tmp_path)
        assert init.returncode == 0, init.stderr
        made.extend(_make_clients(live_postgres, keys_dir, tmp_path / "setup"))

    specs = [(env("a"), port_a, tmp_path / "a.log"), (env("b"), port_b, tmp_path / "b.log")]
    with running_servers(specs, while_starting=migrate_and_make_clients) as servers:
        server_logs.extend(servers)
        first, second = servers
        creds, spy = made
        token = access_token(first.url, creds)
        assert introspect(second.url, spy, token)["active"] is True  # one database, one key
        checks = _checks([first.url, second.url], creds, spy, token)
        _warm_up(checks)
        _revoke_and_watch(env("cli"), tmp_path, creds.client_id, checks)

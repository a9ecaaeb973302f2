"""The management API served by ``gatehouse serve`` (gunicorn, two workers), over HTTP:
the README's walk-through, and the cap holding when creations race across workers."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import requests

from tests.conftest import Credentials, Factory
from tests.live.calls import TIMEOUT, access_token, introspect, token_response
from tests.live.server import LiveServer

OWNER = "admin@example.com"


def _manage_token(live_server: LiveServer, factory: Factory, owner: str = OWNER) -> str:
    factory.user(owner, role="admin", services=[])
    creds = factory.client(owner=owner, scopes=["manage"], name="provisioning script")
    return access_token(live_server.url, creds)


def _expiry() -> str:
    return (datetime.now(UTC).date() + timedelta(days=90)).isoformat()


def test_the_readme_walk_through(live_server: LiveServer, factory: Factory) -> None:
    api = f"{live_server.url}/api/v1"
    headers = {"Authorization": f"Bearer {_manage_token(live_server, factory)}"}
    document = requests.get(f"{api}/openapi.json", timeout=TIMEOUT)
    assert document.status_code == 200 and document.json()["openapi"] == "3.1.0"

    created = requests.post(
        f"{api}/clients",
        json={"name": "Payroll sync", "services": ["jobs"], "expires_on": _expiry()},
        headers=headers,
        timeout=TIMEOUT,
    )
    assert created.status_code == 201, created.text
    cid, secret = created.json()["client_id"], created.json()["client_secret"]
    token = access_token(live_server.url, Credentials(cid, secret))

    listed = requests.get(f"{api}/clients", params={"q": "payroll"}, headers=headers, timeout=10)
    assert [c["client_id"] for c in listed.json()["items"]] == [cid]

    rotated = requests.post(
        f"{api}/clients/{cid}/rotate-secret",
        json={"grace_seconds": 3600},
        headers=headers,
        timeout=TIMEOUT,
    )
    assert rotated.status_code == 200, rotated.text
    new = Credentials(cid, rotated.json()["client_secret"])
    # a worker that has not reloaded the client yet knows the new secret within a second
    within_a_second(lambda: token_response(live_server.url, new).status_code == 200)

    revoked = requests.post(f"{api}/clients/{cid}/revoke", headers=headers, timeout=TIMEOUT)
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    # on every worker within a second: the token is dead and the secret refused
    spy = factory.introspector()
    within_a_second(lambda: introspect(live_server.url, spy, token) == {"active": False})
    within_a_second(lambda: token_response(live_server.url, new).status_code == 401)


def within_a_second(condition: Callable[[], bool]) -> None:
    """``condition`` holds within a second of a change (the bound on every worker seeing
    it), and from then on whichever worker answers."""
    deadline = time.monotonic() + 1.0
    while not condition():
        assert time.monotonic() < deadline, "not seen within a second"
        time.sleep(0.05)
    time.sleep(max(0.0, deadline - time.monotonic()))
    assert all(condition() for _ in range(4))


def test_the_cap_holds_when_creations_race_across_workers(
    live_server: LiveServer, factory: Factory
) -> None:
    """30 creations at once for one owner on two worker processes: exactly 25 active."""
    headers = {"Authorization": f"Bearer {_manage_token(live_server, factory)}"}
    racers = 30
    barrier = threading.Barrier(racers)

    def race(number: int) -> int:
        barrier.wait(timeout=30)
        body = {"name": f"racer {number}", "services": ["jobs"], "expires_on": _expiry()}
        response = requests.post(
            f"{live_server.url}/api/v1/clients", json=body, headers=headers, timeout=30
        )
        return response.status_code

    with ThreadPoolExecutor(max_workers=racers) as pool:
        statuses = list(pool.map(race, range(racers)))
    assert statuses.count(201) == 24, statuses  # the script's own client is the 25th
    assert statuses.count(409) == racers - 24, statuses
    listed = requests.get(
        f"{live_server.url}/api/v1/clients", params={"per_page": 100}, headers=headers, timeout=10
    )
    assert listed.json()["total"] == 25

"""Operations on a served instance of two workers: exact counts in ``/metrics`` whichever worker
answers the scrape (once each worker has handed over its tally, within ``FLUSH_EVERY``), and
after the server stops; every log line JSON with the request id, and the counters recorded
for the dashboard. Every request opens its own connection, so both workers serve."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
from sqlalchemy import select

from app import metrics
from app.extensions import db
from app.models import MetricSample
from app.security.secrets import generate_client_id, generate_secret
from tests.conftest import Credentials, Factory
from tests.live.server import LiveServer, free_port, running_server, server_env
from tests.metrics_helpers import answered, failures, in_files, introspections, parse, tokens

TIMEOUT = 10
TOKENS, WRONG, MALFORMED, MISSING, ACTIVE, INACTIVE = 60, 13, 7, 5, 9, 4


def _post(url: str, **kwargs) -> requests.Response:
    """One request on its own connection (``Connection: close``)."""
    return requests.post(url, headers={"Connection": "close"}, timeout=TIMEOUT, **kwargs)


def _traffic(server: LiveServer, creds: Credentials, spy: Credentials) -> list[requests.Response]:
    cc = {"grant_type": "client_credentials"}
    token_url, introspect_url = f"{server.url}/token", f"{server.url}/introspect"
    spy_auth = (spy.client_id, spy.secret)
    calls = (
        [lambda: _post(token_url, data=cc, auth=(creds.client_id, creds.secret))] * TOKENS
        + [lambda: _post(token_url, data=cc, auth=(generate_client_id(), generate_secret()))]
        * WRONG
        + [lambda: _post(token_url, data=cc, auth=(creds.client_id, "not-a-secret"))] * MALFORMED
        + [lambda: _post(token_url, data=cc)] * MISSING
        + [lambda: _post(introspect_url, data={"token": "junk"}, auth=spy_auth)] * INACTIVE
    )
    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(lambda call: call(), calls))
    token = next(a.json()["access_token"] for a in answers if a.status_code == 200)
    with ThreadPoolExecutor(max_workers=4) as pool:
        answers += list(
            pool.map(
                lambda _: _post(introspect_url, data={"token": token}, auth=spy_auth),
                range(ACTIVE),
            )
        )
    return answers


def _serve(database_url: str, keys_dir: Path, tmp_path: Path):
    port = free_port()
    env = server_env(
        database_url,
        keys_dir,
        tmp_path / "instance",
        f"http://127.0.0.1:{port}",
        GATEHOUSE_METRICS_SAMPLE_SECONDS="1",
    )
    return running_server(env, port, tmp_path / "server.log", args=["--access-log"]), port


def test_two_workers_count_exactly_and_log_json_with_request_ids(
    app, factory: Factory, database_url, keys_dir, tmp_path, server_logs
) -> None:
    creds, spy = factory.client(), factory.introspector()
    serving, port = _serve(database_url, keys_dir, tmp_path)
    with serving as server:
        server_logs.append(server)
        answers = _traffic(server, creds, spy)
        assert sorted({a.status_code for a in answers}) == [200, 401]
        _until_counted(server.url, TOKENS, ACTIVE + INACTIVE)
        for _ in range(12):  # each scrape is answered by either worker: always the same totals
            samples = parse(requests.get(f"{server.url}/metrics", timeout=TIMEOUT).text)
            assert tokens(samples) == TOKENS
            assert failures(samples) == {
                "missing": MISSING,
                "malformed": MALFORMED,
                "unknown_or_wrong": WRONG,
                "expired": 0,
                "revoked": 0,
                "bearer_token": 0,
                "assertion": 0,
                "network": 0,
            }
            assert introspections(samples) == {"active": ACTIVE, "inactive": INACTIVE}
        # and both workers counted: one counter file per worker process
        directory = tmp_path / "instance" / "metrics" / f"127.0.0.1_{port}"
        assert len(list(directory.glob("counter_*.db"))) == 2

        # the dashboard's history: one worker records the same totals every second
        expected = {"tokens": TOKENS, "failures.unknown_or_wrong": WRONG}
        with app.app_context():
            recorded = _latest_sample(port, expected)
        assert recorded is not None
        assert {name: recorded.counts[name] for name in expected} == expected

        refused = _post(f"{server.url}/token", data={"grant_type": "client_credentials"})
    # stopped at once after it (SIGTERM): each worker handed over its last counts as it ended
    assert answered(in_files(directory), "/token") == TOKENS + WRONG + MALFORMED + MISSING + 1
    lines = [json.loads(line) for line in server.log().splitlines() if line.strip()]
    assert all(isinstance(line, dict) and line["time"] and line["level"] for line in lines)
    assert any(line["logger"].startswith("_granian") for line in lines)  # the server's own too
    request_id = refused.headers["X-Request-Id"]
    mine = [line for line in lines if line.get("request_id") == request_id]
    assert {line["logger"] for line in mine} == {"app.oauth", "app.access"}, mine
    access = [line for line in lines if line["logger"] == "app.access"]
    assert len(access) >= TOKENS and all(line.get("request_id") for line in access)


def _until_counted(url: str, tokens_issued: int, introspected: int) -> None:
    """Scrape until the workers' tallies are in the files: within ``FLUSH_EVERY`` (5 s at most)."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        samples = parse(requests.get(f"{url}/metrics", timeout=TIMEOUT).text)
        if (tokens(samples), sum(introspections(samples).values())) == (
            tokens_issued,
            introspected,
        ):
            return
        time.sleep(metrics.FLUSH_EVERY / 5)


def _latest_sample(port: int, expected: dict[str, int]) -> MetricSample | None:
    """The newest row this instance recorded, once it holds the ``expected`` counts (within
    5 s): a row recorded while the traffic was still being answered holds only part of it."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        row = db.session.scalars(
            select(MetricSample)
            .where(MetricSample.instance.endswith(f"/127.0.0.1_{port}"))
            .order_by(MetricSample.at.desc())
        ).first()
        db.session.rollback()
        if row is not None and all(row.counts.get(k) == v for k, v in expected.items()):
            return row
        time.sleep(0.2)
    return row

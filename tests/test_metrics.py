"""``/metrics`` in one process: what each event counts, the failure reasons an operator sees
(while the client sees one answer), the bearer token, and labels that never carry a
client-supplied string. Counting across workers is tested on a served instance
(tests/live/test_operations_served.py). Counters are process-wide, so tests compare deltas."""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from flask.testing import FlaskClient

from app import metrics
from app.metric_tally import FLUSH_EVERY, Tally
from app.security.secrets import generate_client_id, generate_secret
from tests.helpers import basic_auth, basic_header
from tests.metrics_helpers import failures, introspections, parse, tokens, value
from tests.oauth.helpers import CC, access_token, introspect, revoke, set_expiry_in_past

METRICS_TOKEN = "a-metrics-token-of-32-characters"


def scrape(http: FlaskClient, **headers: str):
    response = http.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.mimetype == "text/plain"
    assert response.headers["Cache-Control"] == "no-store"
    return parse(response.text)


def changed(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {key: after[key] - before.get(key, 0) for key in after if after[key] != before.get(key)}


def test_every_series_is_there_from_the_start(http):
    samples = scrape(http)
    assert set(failures(samples)) >= {
        "missing",
        "malformed",
        "unknown_or_wrong",
        "expired",
        "revoked",
        "bearer_token",
    }
    assert set(introspections(samples)) == {"active", "inactive"}
    names = {name for name, _ in samples}
    assert {
        "gatehouse_tokens_issued_total",
        "gatehouse_revocations_total",
        "gatehouse_leak_reports_total",
        "gatehouse_active_clients",
        "gatehouse_clients_expiring_within_7_days",
    } <= names


def test_tokens_are_counted_by_grant_and_algorithm(http, factory):
    creds = factory.client()
    before = scrape(http)
    for _ in range(3):
        access_token(http, creds)
    after = scrape(http)
    counted = ("gatehouse_tokens_issued_total", {"grant": "client_credentials", "alg": "RS256"})
    assert value(after, counted[0], **counted[1]) - value(before, counted[0], **counted[1]) == 3
    assert tokens(after) - tokens(before) == 3


def _missing(http, creds, app):
    return http.post("/token", data=CC)


def _bad_header(http, creds, app):
    return http.post("/token", data=CC, headers={"Authorization": "Basic %%%"})


def _bad_secret_shape(http, creds, app):
    return http.post("/token", data=CC, headers=basic_auth(creds.client_id, "hunter2"))


def _unknown_client(http, creds, app):
    return http.post("/token", data=CC, headers=basic_auth(generate_client_id(), generate_secret()))


def _wrong_secret(http, creds, app):
    return http.post("/token", data=CC, headers=basic_auth(creds.client_id, generate_secret()))


def _revoked(http, creds, app):
    from app.services import clients
    from app.services.actors import Actor

    with app.app_context():
        clients.revoke_client(Actor.cli(), creds.client_id)
    return http.post("/token", data=CC, headers=creds.basic)


def _expired(http, creds, app):
    set_expiry_in_past(app, creds.client_id)
    return http.post("/token", data=CC, headers=creds.basic)


def _bad_bearer(http, creds, app):
    return http.post("/introspect", data={"token": "x"}, headers={"Authorization": "Bearer x.y.z"})


FAILURES: list[tuple[str, Callable]] = [
    ("missing", _missing),
    ("malformed", _bad_header),
    ("malformed", _bad_secret_shape),
    ("unknown_or_wrong", _unknown_client),
    ("unknown_or_wrong", _wrong_secret),
    ("revoked", _revoked),
    ("expired", _expired),
    ("bearer_token", _bad_bearer),
]


@pytest.mark.parametrize(("reason", "attempt"), FAILURES, ids=[f.__name__ for _, f in FAILURES])
def test_each_failure_is_counted_under_its_reason_alone(app, http, factory, reason, attempt):
    creds = factory.client()
    before = failures(scrape(http))
    response = attempt(http, creds, app)
    assert response.status_code == 401 and response.json["error"] == "invalid_client"
    assert changed(before, failures(scrape(http))) == {reason: 1}


def test_the_answer_is_the_same_whatever_the_reason(app, http, factory):
    """The operator sees why; the caller gets one answer for every credential failure."""
    answers = set()
    for attempt in (_unknown_client, _wrong_secret, _revoked, _expired):
        response = attempt(http, factory.client(), app)
        answers.add((response.status_code, response.text, response.headers["WWW-Authenticate"]))
    assert len(answers) == 1


def test_introspections_and_revocations_are_counted(app, http, factory):
    creds, spy = factory.client(), factory.introspector()
    token = access_token(http, creds)
    before = scrape(http)
    assert introspect(http, token, spy).json["active"] is True
    assert introspect(http, "garbage", spy).json == {"active": False}
    assert introspect(http, "more garbage", spy).json == {"active": False}
    assert revoke(http, token, creds).status_code == 200
    assert revoke(http, token, creds).status_code == 200  # again: nothing new to revoke
    from app.services import clients
    from app.services.actors import Actor

    with app.app_context():
        clients.revoke_client(Actor.cli(), creds.client_id)
        clients.revoke_client(Actor.cli(), creds.client_id)  # already revoked: not counted
    after = scrape(http)
    assert changed(introspections(before), introspections(after)) == {"active": 1, "inactive": 2}
    revocations = "gatehouse_revocations_total"
    for kind in ("token", "client"):
        assert value(after, revocations, kind=kind) - value(before, revocations, kind=kind) == 1


def test_client_gauges_are_computed_from_the_database(app, http, factory):
    today = datetime.now(UTC).date()
    factory.client(expires_on=today + timedelta(days=7))  # its last day is within 7 days
    factory.client(expires_on=today + timedelta(days=8))
    soon_but_revoked = factory.client(expires_on=today + timedelta(days=2))
    _revoked(http, soon_but_revoked, app)
    samples = scrape(http)
    assert value(samples, "gatehouse_active_clients") == 2
    assert value(samples, "gatehouse_clients_expiring_within_7_days") == 1


def test_no_client_supplied_string_becomes_a_label(app, http, factory):
    marks = [f"mark{secrets.token_hex(6)}" for _ in range(8)]
    http.get(f"/{marks[0]}")
    http.post(f"/token/{marks[1]}", data=CC)
    http.get(f"/tokens/{marks[2]}")  # a console route: its rule, not its path
    http.post("/token", data=CC | {"client_id": marks[3], "client_secret": marks[4]})
    http.post("/token", data=CC, headers=basic_header(f"{marks[5]}:{generate_secret()}"))
    http.post("/token", data=CC | {"scope": marks[6]}, headers=factory.client().basic)
    http.open(f"/.well-known/{marks[7]}", method="PROPFIND")
    http.get("/healthz", headers={"X-Request-Id": marks[0], "User-Agent": marks[1]})
    text = http.get("/metrics").text
    for mark in marks:
        assert mark not in text
    rules = {rule.rule for rule in app.url_map.iter_rules()} | {"unmatched"}
    routes = {
        dict(labels)["route"]
        for name, labels in parse(text)
        if name.startswith("gatehouse_http_request_duration_seconds")
    }
    assert {"/token", "/tokens/<client_id>", "unmatched", "/healthz"} <= routes <= rules
    statuses = {
        dict(labels)["status"]
        for name, labels in parse(text)
        if name.startswith("gatehouse_http_request_duration_seconds")
    }
    assert statuses <= {"1xx", "2xx", "3xx", "4xx", "5xx"}


def test_latencies_land_in_their_buckets_with_their_sum():
    """The tallied observations reach the histogram as prometheus-client would have put them:
    each in the first bucket whose bound is at least its value (``le``), and their sum."""
    route = f"/test-{secrets.token_hex(4)}"
    for seconds in (0.0005, 0.001, 0.0011, 0.03, 0.03, 11.0):
        metrics.observe_request(route, 200, seconds)
    samples = parse(metrics.render({}).decode())
    name = "gatehouse_http_request_duration_seconds"

    def bucket(le: str) -> float:
        return value(samples, f"{name}_bucket", route=route, status="2xx", le=le)

    assert [bucket(le) for le in ("0.001", "0.0025", "0.025", "0.05", "10.0", "+Inf")] == [
        2,
        3,
        3,
        5,
        5,
        6,
    ]
    assert value(samples, f"{name}_count", route=route, status="2xx") == 6
    total = value(samples, f"{name}_sum", route=route, status="2xx")
    assert total == pytest.approx(11.0626)


def test_a_forked_worker_does_not_hand_over_its_parent_s_counts_again(app, http, factory):
    """A worker forked while its parent had counts not yet handed over starts with none of
    them: in a served instance each process writes its own file, so they would count twice."""
    creds = factory.client()
    before = tokens(scrape(http))
    access_token(http, creds)  # tallied: handed over at the next flush or scrape
    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child reports through the pipe
        try:
            os.write(writer, str(tokens(parse(metrics.render({}).decode()))).encode())
        finally:
            os._exit(0)
    os.close(writer)
    seen_by_child = float(os.read(reader, 100).decode())
    os.waitpid(child, 0)
    assert seen_by_child == before
    assert tokens(scrape(http)) == before + 1


@pytest.fixture
def guarded(config: dict[str, object]) -> dict[str, object]:
    config["GATEHOUSE_METRICS_TOKEN"] = METRICS_TOKEN
    return config


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer wrong-token-of-some-length", f"Basic {METRICS_TOKEN}", "Bearer  "],
)
def test_a_metrics_token_is_required_when_set(guarded, http, authorization):
    headers = {} if authorization is None else {"Authorization": authorization}
    response = http.get("/metrics", headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "gatehouse_" not in response.text


def test_the_right_metrics_token_reads_them(guarded, http):
    samples = scrape(http, Authorization=f"Bearer {METRICS_TOKEN}")
    assert ("gatehouse_active_clients", frozenset()) in samples


@pytest.mark.parametrize(
    "token", ["short", "has a space in it somewhere", "ünïcödé-ünïcödé-ünïcödé"]
)
def test_a_weak_metrics_token_stops_start_up(config, token):
    from app import create_app
    from app.config import ConfigError

    with pytest.raises(ConfigError, match="GATEHOUSE_METRICS_TOKEN"):
        create_app({**config, "GATEHOUSE_METRICS_TOKEN": token})


def test_counters_are_still_scraped_while_the_database_is_down(config, tmp_path):
    from app import create_app
    from app.extensions import db

    url = f"sqlite:///{tmp_path / 'no-such-folder' / 'gatehouse.db'}"
    down = create_app({**config, "GATEHOUSE_DATABASE_URL": url})
    try:
        samples = scrape(down.test_client())
        assert "unknown_or_wrong" in failures(samples)
        assert ("gatehouse_active_clients", frozenset()) not in samples
    finally:
        with down.app_context():
            db.session.remove()
            db.engine.dispose()


def test_a_batch_that_cannot_be_handed_over_does_not_stop_the_next_ones():
    """The tally's thread survives a failed hand-over (a full disk under the metric files)."""
    handed: list[object] = []

    def hand_over(counts, observations):
        handed.append(dict(counts))
        if len(handed) == 1:
            raise OSError("no space left on device")

    tally = Tally((1.0,), hand_over)
    tally.count("first")
    deadline = time.monotonic() + 20 * FLUSH_EVERY
    while not handed and time.monotonic() < deadline:
        time.sleep(FLUSH_EVERY / 5)
    tally.count("second")
    while len(handed) < 2 and time.monotonic() < deadline:
        time.sleep(FLUSH_EVERY / 5)
    assert handed == [{"first": 1}, {"second": 1}]

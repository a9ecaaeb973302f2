"""The replay guard of client assertions: a ``jti`` is accepted once per client until it
expires, in the database (a primary key) or in Redis, whoever asks at the same moment."""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from flask import Flask
from sqlalchemy import func, select

from app.extensions import db
from app.models import UsedAssertion
from app.services.assertion_replay import ReplayGuard


def stored(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(UsedAssertion))


def test_a_jti_is_used_once_per_client(app):
    guard, until = ReplayGuard(), int(time.time()) + 120
    with app.app_context():
        assert guard.first_use("client-a", "jti-1", until) is True
        assert guard.first_use("client-a", "jti-1", until) is False
        assert guard.first_use("client-b", "jti-1", until) is True
    assert stored(app) == 2


def test_expired_rows_are_purged_once_a_minute(app):
    guard = ReplayGuard()
    with app.app_context():
        guard.first_use("client-a", "old", int(time.time()) - 5)  # first use purges first
        assert stored(app) == 1
        guard.first_use("client-a", "new-1", int(time.time()) + 120)
        assert stored(app) == 2  # not purged again within the minute
        guard.purge_every = 0
        guard.first_use("client-a", "new-2", int(time.time()) + 120)
        assert stored(app) == 2  # "old" is gone, "new-1" and "new-2" stay


def test_simultaneous_uses_of_one_jti_accept_exactly_one(app):
    """Workers racing with the same assertion: the primary key lets one INSERT through."""
    guard, until, jti = ReplayGuard(), int(time.time()) + 120, uuid.uuid4().hex

    def attempt(_: int) -> bool:
        with app.app_context():
            try:
                return guard.first_use("client-a", jti, until)
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(attempt, range(16)))
    assert outcomes.count(True) == 1


def test_with_redis_a_jti_is_used_once_and_forgotten_when_it_expires(app, redis_url):
    guard = ReplayGuard(redis_url)
    client_id, jti = f"test-{uuid.uuid4().hex}", "jti-1"
    with app.app_context():
        assert guard.first_use(client_id, jti, int(time.time()) + 2) is True
        assert guard.first_use(client_id, jti, int(time.time()) + 2) is False
        assert ReplayGuard(redis_url).first_use(client_id, jti, int(time.time()) + 2) is False
    assert stored(app) == 0  # nothing in the database
    import redis

    with redis.Redis.from_url(redis_url) as client:
        ttl = client.ttl(f"gatehouse:jti:{client_id}:{jti}")
        assert 0 < ttl <= 2
        client.delete(f"gatehouse:jti:{client_id}:{jti}")


def test_with_redis_down_the_database_takes_over(app):
    guard = ReplayGuard("redis://127.0.0.1:1/0")  # nothing listens on port 1
    with app.app_context():
        assert guard.first_use("client-a", "jti-1", int(time.time()) + 60) is True
        assert guard.first_use("client-a", "jti-1", int(time.time()) + 60) is False
    assert stored(app) == 1


@pytest.mark.parametrize("redis_setting", [False, True], ids=["database", "redis"])
def test_the_app_uses_the_configured_store(config, request, redis_setting):
    if redis_setting:
        config["GATEHOUSE_REDIS_URL"] = request.getfixturevalue("redis_url")
    app = request.getfixturevalue("app")
    guard = app.extensions["gatehouse"].replays
    with app.app_context():
        assert guard.first_use(f"test-{uuid.uuid4().hex}", "j", int(time.time()) + 2)
    assert stored(app) == (0 if redis_setting else 1)

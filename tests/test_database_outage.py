"""A database outage turns into 503s with a clear body, and service resumes by itself.

The outage is real: a throwaway PostgreSQL database stops accepting connections
and its open ones are killed, then it comes back. Skipped only when no
PostgreSQL server answers on 127.0.0.1.
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy.engine import make_url

from app import create_app
from app.extensions import db
from app.services import catalogue, clients, days, users
from app.services.actors import Actor
from tests.conftest import Credentials

ADMIN_URL = os.environ.get("GATEHOUSE_TEST_DATABASE_URL", "").strip() or (
    "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def _admin(sql: str) -> None:
    url = make_url(ADMIN_URL).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url, autocommit=True, connect_timeout=3) as conn:
        conn.execute(sql)


@pytest.fixture
def outage_app(tmp_path: Path, keys_dir: Path) -> Iterator[tuple[Flask, str]]:
    name = f"gatehouse_outage_{secrets.token_hex(4)}"
    try:
        _admin(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL not reachable at 127.0.0.1:5432: {exc}")
    url = make_url(ADMIN_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    app = create_app(
        {
            "GATEHOUSE_DATABASE_URL": url.set(database=name).render_as_string(hide_password=False),
            "GATEHOUSE_KEYS_DIR": keys_dir,
            "GATEHOUSE_INSTANCE_DIR": tmp_path / "instance",
        }
    )
    try:
        with app.app_context():
            upgrade(directory=app.extensions["migrate"].directory)
            catalogue.seed_defaults()
        yield app, name
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        _admin(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _client(app: Flask) -> Credentials:
    with app.app_context():
        users.create_user(Actor.cli(), "owner@example.com", "Owner", role="admin")
        issued = clients.create_client(
            Actor.cli(),
            owner_email="owner@example.com",
            name="c",
            scopes=["jobs"],
            expires_on=days.today(),
        )
        return Credentials(issued.client.client_id, issued.secret)


def test_outage_gives_503_and_service_resumes(outage_app):
    app, name = outage_app
    http = app.test_client()
    creds = _client(app)
    form = {"grant_type": "client_credentials"}
    assert http.post("/token", data=form, headers=creds.basic).status_code == 200

    _admin(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
    kill = "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '%s'"
    _admin(kill % name)  # the name is our own random hex
    time.sleep(0.6)  # let the per-worker client snapshot (0.5 s) lapse
    for path, method in (("/readyz", "get"), ("/token", "post")):
        response = getattr(http, method)(path, data=form, headers=creds.basic)
        assert response.status_code == 503, (path, response.get_data(as_text=True))
        body = response.get_json()
        assert "unavailable" in (body.get("error") or body.get("status")), body
        if path == "/readyz":  # it names the dependency that failed
            assert body["checks"]["database"].startswith("unreachable"), body
            assert body["checks"]["keys"].startswith("ok"), body
        assert creds.secret not in response.get_data(as_text=True)

    _admin(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
    assert http.get("/readyz").status_code == 200
    assert http.post("/token", data=form, headers=creds.basic).status_code == 200

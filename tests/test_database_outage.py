"""A database outage turns into 503s with a clear body, and service resumes by itself.

The outage is real: a throwaway PostgreSQL database stops accepting connections
and its open ones are killed, then it comes back. Skipped only when no
PostgreSQL server answers on 127.0.0.1.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from app import create_app
from app.extensions import db
from app.services import clients, days, users
from app.services.actors import Actor
from tests.conftest import Credentials, postgres_admin


@pytest.fixture
def outage_app(fresh_postgres, tmp_path: Path, keys_dir: Path) -> Iterator[tuple[Flask, str]]:
    url, name = fresh_postgres
    app = create_app(
        {
            "GATEHOUSE_DATABASE_URL": url,
            "GATEHOUSE_KEYS_DIR": keys_dir,
            "GATEHOUSE_INSTANCE_DIR": tmp_path / "instance",
        }
    )
    yield app, name
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


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

    postgres_admin(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
    kill = "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '%s'"
    postgres_admin(kill % name)  # the name is our own random hex
    time.sleep(0.3)  # let the change log's check fall due: it is what meets the outage
    for path, method in (("/readyz", "get"), ("/token", "post")):
        response = getattr(http, method)(path, data=form, headers=creds.basic)
        assert response.status_code == 503, (path, response.get_data(as_text=True))
        body = response.get_json()
        assert "unavailable" in (body.get("error") or body.get("status")), body
        if path == "/readyz":  # it names the dependency that failed
            assert body["checks"]["database"].startswith("unreachable"), body
            assert body["checks"]["keys"].startswith("ok"), body
        assert creds.secret not in response.get_data(as_text=True)

    postgres_admin(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
    assert http.get("/readyz").status_code == 200
    assert http.post("/token", data=form, headers=creds.basic).status_code == 200

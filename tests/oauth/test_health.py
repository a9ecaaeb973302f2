"""GET /healthz (the process is up) and /readyz (database and keys reachable)."""

from __future__ import annotations

import pytest

from app import create_app
from app.extensions import db
from app.security.secrets import generate_client_id, generate_secret
from app.services.signing_keys import KeyStore
from tests.helpers import basic_header
from tests.oauth.helpers import CC


def test_healthz(http):
    response = http.get("/healthz")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.json["status"] == "ok"


def test_readyz_with_database_and_keys(app, http):
    response = http.get("/readyz")
    assert response.status_code == 200, response.json
    body = response.json
    assert body["status"] == "ready"
    assert body["checks"]["database"].startswith("ok")
    assert body["checks"]["keys"].startswith("ok")
    assert app.extensions["gatehouse"].keys.signing_key().kid in body["checks"]["keys"]


@pytest.mark.parametrize("folder", ["empty", "missing"])
def test_readyz_is_503_without_keys(config, request, tmp_path, folder):
    keys_dir = tmp_path / f"no-keys-{folder}"
    if folder == "empty":
        keys_dir.mkdir()
    config["GATEHOUSE_KEYS_DIR"] = keys_dir
    http = request.getfixturevalue("http")
    response = http.get("/readyz")
    assert response.status_code == 503
    assert response.mimetype == "application/json"
    body = response.json
    assert body["status"] != "ready"
    assert body["checks"]["database"].startswith("ok")
    assert not body["checks"]["keys"].startswith("ok")
    assert str(keys_dir) in body["checks"]["keys"]  # says which folder
    assert http.get("/healthz").status_code == 200  # the process itself is up


def test_token_without_keys_is_503_with_a_clear_body(config, request, tmp_path):
    keys_dir = tmp_path / "no-keys"
    keys_dir.mkdir()
    config["GATEHOUSE_KEYS_DIR"] = keys_dir
    http, factory = request.getfixturevalue("http"), request.getfixturevalue("factory")
    response = http.post("/token", data=CC, headers=factory.client().basic)
    assert response.status_code == 503
    assert response.mimetype == "application/json"
    assert response.json["error"] == "temporarily_unavailable"
    assert response.json["error_description"]
    assert "access_token" not in response.json


def test_readyz_recovers_when_a_key_appears(config, request, tmp_path):
    keys_dir = tmp_path / "late-keys"
    keys_dir.mkdir()
    config["GATEHOUSE_KEYS_DIR"] = keys_dir
    app, http = request.getfixturevalue("app"), request.getfixturevalue("http")
    assert http.get("/readyz").status_code == 503
    KeyStore(keys_dir, 600).create("ES256")  # e.g. `gatehouse keys rotate` in another process
    app.extensions["gatehouse"].keys.refresh(force=True)
    assert http.get("/readyz").status_code == 200


@pytest.fixture(params=["sqlite-missing-folder", "postgres-refused"])
def unreachable_db_app(request, config, tmp_path):
    """An app whose database cannot be reached (built directly: the ``app`` fixture needs one)."""
    if request.param == "sqlite-missing-folder":
        url = f"sqlite:///{tmp_path / 'no-such-folder' / 'gatehouse.db'}"
    else:
        url = "postgresql+psycopg://postgres@127.0.0.1:1/nowhere?connect_timeout=1"
    app = create_app({**config, "GATEHOUSE_DATABASE_URL": url})
    app.config["TESTING"] = True
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_readyz_is_503_when_the_database_is_unreachable(unreachable_db_app):
    response = unreachable_db_app.test_client().get("/readyz")
    assert response.status_code == 503
    body = response.json
    assert not body["checks"]["database"].startswith("ok")
    assert body["checks"]["keys"].startswith("ok")


def test_token_is_503_with_a_clear_body_when_the_database_is_unreachable(unreachable_db_app):
    http = unreachable_db_app.test_client()
    headers = basic_header(f"{generate_client_id()}:{generate_secret()}")
    response = http.post("/token", data=CC, headers=headers)
    assert response.status_code == 503, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    assert response.json["error"] == "temporarily_unavailable"
    assert response.json["error_description"]
    assert response.headers.get("Retry-After")

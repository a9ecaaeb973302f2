"""``gatehouse init``: schema, signing key if none, default catalogue; idempotent."""

from __future__ import annotations

import stat

import pytest
from argon2 import profiles
from sqlalchemy import inspect, select

from app import create_app
from app.cli import cli
from app.extensions import db
from app.models import Service, User
from app.security.passwords import Passwords
from app.services.catalogue import DEFAULT_SERVICES
from tests.cli.helpers import as_json, execute, ok

DEFAULT_KEYS = {key for key, _ in DEFAULT_SERVICES}


def _service_keys(app) -> set[str]:
    with app.app_context():
        return set(db.session.scalars(select(Service.key)))


@pytest.fixture
def no_keys(config, tmp_path):
    """An empty GATEHOUSE_KEYS_DIR; request it before ``app`` so the app is built with it."""
    path = tmp_path / "no-keys-yet"
    config["GATEHOUSE_KEYS_DIR"] = path
    return path


def test_init_twice_creates_one_key_and_seeds_the_catalogue_once(no_keys, app, gh):
    execute(app, "DELETE FROM services")
    assert _service_keys(app) == set()

    first = as_json(gh("init", "--json"))
    assert first["key_created"] is True
    assert first["services_added"] == 6
    pems = list(no_keys.glob("*.pem"))
    assert [p.stem for p in pems] == [first["signing_key"]]
    assert stat.S_IMODE(pems[0].stat().st_mode) == 0o600
    assert _service_keys(app) == DEFAULT_KEYS
    listed = as_json(gh("keys", "list", "--json"))
    assert [k["kid"] for k in listed] == [first["signing_key"]]

    second = as_json(gh("init", "--json"))
    assert second["key_created"] is False
    assert second["services_added"] == 0
    assert second["signing_key"] == first["signing_key"]
    assert list(no_keys.glob("*.pem")) == pems
    assert _service_keys(app) == DEFAULT_KEYS


def test_init_keeps_an_existing_key(gh, keys_dir):
    existing = [p.stem for p in keys_dir.glob("*.pem")]
    result = as_json(gh("init", "--json"))
    assert result["key_created"] is False
    assert [result["signing_key"]] == existing
    assert [p.stem for p in keys_dir.glob("*.pem")] == existing


def test_init_keeps_services_added_later(app, gh):
    ok(gh("services", "add", "payroll", "--name", "Payroll API"))
    assert as_json(gh("init", "--json"))["services_added"] == 0
    assert _service_keys(app) == DEFAULT_KEYS | {"payroll"}


def test_init_creates_the_schema_of_an_empty_database(tmp_path):
    app = create_app(
        {
            "GATEHOUSE_DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.db'}",
            "GATEHOUSE_KEYS_DIR": tmp_path / "keys",
            "GATEHOUSE_INSTANCE_DIR": tmp_path / "instance",
        }
    )
    runner = app.test_cli_runner()
    try:
        first = as_json(runner.invoke(cli, ["init", "--json"]))
        second = as_json(runner.invoke(cli, ["init", "--json"]))
        with app.app_context():
            tables = set(inspect(db.engine).get_table_names())
            services = set(db.session.scalars(select(Service.key)))
    finally:
        with app.app_context():
            db.engine.dispose()
    assert {"users", "clients", "services", "audit_events", "alembic_version"} <= tables
    assert services == DEFAULT_KEYS
    assert (first["key_created"], first["services_added"]) == (True, 6)
    assert (second["key_created"], second["services_added"]) == (False, 0)


def test_init_text_output(gh):
    result = ok(gh("init"))
    assert "signing key:" in result.stdout
    assert "services added: 0" in result.stdout


def test_init_admin_creates_the_first_admin_once(app, gh):
    first = as_json(gh("init", "--admin", "--json"))
    assert first["admin_created"] == "admin@localhost"
    password = first["admin_password"]
    assert len(password) >= 12
    with app.app_context():
        admin = db.session.scalars(select(User)).one()
        assert admin.role == "admin"
        assert Passwords(profiles.CHEAPEST).verify(admin.password_hash, password)
        assert password not in admin.password_hash
    second = as_json(gh("init", "--admin", "--json"))
    assert "admin_created" not in second
    assert "admin_password" not in second

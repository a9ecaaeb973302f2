"""The Alembic migrations build exactly the models' schema on an empty database, and undo it."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect
from sqlalchemy.engine import make_url

from app import create_app
from app.extensions import db

LOCAL_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PG_URL = os.environ.get("GATEHOUSE_TEST_DATABASE_URL", "").strip() or LOCAL_PG


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request, tmp_path: Path) -> Iterator[str]:
    """A brand-new empty database: a tmp SQLite file, or a throwaway PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    name = f"gatehouse_migtest_{secrets.token_hex(4)}"
    try:
        with psycopg.connect(_libpq(PG_URL), autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL not reachable at {make_url(PG_URL).host}: {exc}")
    try:
        url = make_url(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1))
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(_libpq(PG_URL), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def migrating_app(empty_database: str, tmp_path: Path):
    app = create_app(
        {
            "GATEHOUSE_DATABASE_URL": empty_database,
            "GATEHOUSE_KEYS_DIR": tmp_path / "keys",
            "GATEHOUSE_INSTANCE_DIR": tmp_path / "instance",
        }
    )
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _diff() -> list:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, db.metadata)


def _tables() -> set[str]:
    return set(inspect(db.engine).get_table_names())


def test_upgrade_from_empty_gives_exactly_the_models_schema(migrating_app):
    directory = migrating_app.extensions["migrate"].directory
    with migrating_app.app_context():
        assert _tables() == set()
        upgrade(directory=directory)
        assert _tables() == {t.name for t in db.metadata.sorted_tables} | {"alembic_version"}
        assert _diff() == []


def test_downgrade_to_base_and_up_again(migrating_app):
    directory = migrating_app.extensions["migrate"].directory
    with migrating_app.app_context():
        upgrade(directory=directory)
        downgrade(directory=directory, revision="base")
        assert _tables() <= {"alembic_version"}
        missing = {diff[1].name for diff in _diff() if diff[0] == "add_table"}
        assert missing == {t.name for t in db.metadata.sorted_tables}
        upgrade(directory=directory)
        assert _diff() == []

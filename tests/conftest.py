"""Fixtures in the Flask style: ``app``, ``http`` (the test client), ``runner``, factories.

The database is a real SQLite file, or PostgreSQL when
``GATEHOUSE_TEST_DATABASE_URL`` is set. The schema is built once per session
by the Alembic migrations; every test starts from empty tables (plus the
default catalogue) and leaves them empty.
"""

from __future__ import annotations

import io
import json
import logging
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import Result
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import create_engine, make_url, text

from app import create_app
from app.cli import cli
from app.extensions import db
from app.logs import JsonFormatter
from app.services import catalogue, clients, users
from app.services.actors import Actor
from app.services.signing_keys import KeyStore
from tests.helpers import ADMIN, MEMBER, OTHER, PASSWORD, basic_auth

TEST_REDIS_URL = os.environ.get("GATEHOUSE_TEST_REDIS_URL", "redis://127.0.0.1:6379/14")
TEST_DATABASE_URL = os.environ.get("GATEHOUSE_TEST_DATABASE_URL", "").strip()
#: where tests that need PostgreSQL whatever the suite runs on create their own database
POSTGRES_ADMIN_URL = TEST_DATABASE_URL or "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
ISSUER = "http://127.0.0.1:8000"


def _reset_postgres(url: str) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One database per test session, migrated to head."""
    if TEST_DATABASE_URL:
        url = TEST_DATABASE_URL.replace("postgresql://", "postgresql+psycopg://", 1)
        _reset_postgres(url)
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'gatehouse.db'}"
    keys = tmp_path_factory.mktemp("migrate-keys")
    app = create_app(
        {
            "GATEHOUSE_DATABASE_URL": url,
            "GATEHOUSE_KEYS_DIR": keys,
            "GATEHOUSE_INSTANCE_DIR": tmp_path_factory.mktemp("instance"),
        }
    )
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        db.engine.dispose()
    return url


@pytest.fixture(scope="session")
def session_key_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One RS256 key generated per session, copied into each test's keys folder."""
    path = tmp_path_factory.mktemp("session-keys")
    KeyStore(path, 600).create("RS256")
    return path


@pytest.fixture
def keys_dir(tmp_path: Path, session_key_dir: Path) -> Path:
    path = tmp_path / "keys"
    shutil.copytree(session_key_dir, path)
    return path


@pytest.fixture
def config(database_url: str, keys_dir: Path, tmp_path: Path) -> dict[str, object]:
    """The settings of the ``app`` fixture; a test may change them before using ``app``."""
    return {
        "GATEHOUSE_DATABASE_URL": database_url,
        "GATEHOUSE_INSTANCE_DIR": tmp_path / "instance",
        "GATEHOUSE_KEYS_DIR": keys_dir,
        "GATEHOUSE_ISSUER": ISSUER,
        "GATEHOUSE_SECRET_KEY": "test-secret-key",
        # real argon2id at its smallest cost: the default takes ~0.2 s a hash
        "GATEHOUSE_ARGON2_PROFILE": "cheapest",
    }


def _empty_tables() -> None:
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(table.delete())
    db.session.commit()


class SentClient(FlaskClient):
    """The test client, with each response read whole and closed, as a server does when it
    has sent it: work the app leaves for after the response (usage writes) runs then."""

    def open(self, *args, **kwargs):
        kwargs.setdefault("buffered", True)
        return super().open(*args, **kwargs)


@pytest.fixture
def app(config: dict[str, object]) -> Iterator[Flask]:
    app = create_app(config)
    app.config["TESTING"] = True
    app.test_client_class = SentClient
    with app.app_context():
        _empty_tables()
        catalogue.seed_defaults()
    yield app
    with app.app_context():
        db.session.rollback()
        _empty_tables()
        db.engine.dispose()


@pytest.fixture
def http(app: Flask) -> FlaskClient:
    """The Flask test client ("client" means an OAuth client in this project)."""
    return app.test_client()


@pytest.fixture
def runner(app: Flask):
    return app.test_cli_runner()


@pytest.fixture
def gh(runner) -> Callable[..., Result]:
    """``gh("clients", "list", "--json")``: ``gatehouse clients list --json`` on the test app."""

    def invoke(*args: object, input: str | None = None) -> Result:
        return runner.invoke(cli, args=[str(arg) for arg in args], input=input)

    return invoke


@dataclass(frozen=True)
class Credentials:
    client_id: str
    secret: str

    @property
    def basic(self) -> dict[str, str]:
        return basic_auth(self.client_id, self.secret)


class Factory:
    """Creates users and clients through the service layer, as the CLI would."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self._count = 0

    def user(
        self,
        email: str = "rep@example.com",
        role: str = "member",
        services: list[str] | None = None,
        password: str | None = None,
    ) -> str:
        with self.app.app_context():
            users.create_user(
                Actor.cli(),
                email,
                email.split("@")[0].title(),
                role=role,
                services=services if services is not None else ["jobs", "candidates"],
                password=password,
            )
        return email

    def client(
        self,
        owner: str | None = None,
        scopes: list[str] | None = None,
        expires_on: date | None = None,
        name: str | None = None,
        allowed_networks: list[str] | None = None,
        jwks: str | dict | None = None,
    ) -> Credentials:
        """A client made through the service layer (a key client with ``jwks``: its
        ``secret`` is then empty)."""
        self._count += 1
        with self.app.app_context():
            if owner is None:
                owner = "owner@example.com"
                try:
                    users.get_by_email(owner)
                except Exception:  # noqa: BLE001 - first use: create the default owner
                    self.user(owner, role="admin")
            issued = clients.create_client(
                Actor.cli(),
                owner_email=owner,
                name=name or f"client {self._count}",
                scopes=scopes or ["jobs"],
                expires_on=expires_on or datetime.now(UTC).date() + timedelta(days=30),
                allowed_networks=allowed_networks,
                jwks=jwks,
            )
            return Credentials(issued.client.client_id, issued.secret or "")

    def introspector(self) -> Credentials:
        return self.client(scopes=["introspect"], name=f"introspector {self._count}")


@pytest.fixture
def factory(app: Flask) -> Factory:
    return Factory(app)


@pytest.fixture
def people(factory: Factory) -> dict[str, str]:
    """An admin, a member holding jobs and candidates, and a member holding jobs and
    employees; all three sign in with ``PASSWORD``."""
    factory.user(ADMIN, role="admin", services=[], password=PASSWORD)
    factory.user(MEMBER, role="member", services=["jobs", "candidates"], password=PASSWORD)
    factory.user(OTHER, role="member", services=["jobs", "employees"], password=PASSWORD)
    return {"admin": ADMIN, "member": MEMBER, "other": OTHER}


def postgres_admin(sql: str) -> None:
    """Run one statement on the PostgreSQL server of ``POSTGRES_ADMIN_URL`` (autocommit)."""
    import psycopg

    url = make_url(POSTGRES_ADMIN_URL).set(drivername="postgresql")
    with psycopg.connect(url.render_as_string(False), autocommit=True, connect_timeout=3) as conn:
        conn.execute(sql)


@pytest.fixture
def fresh_postgres(keys_dir: Path, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """A new PostgreSQL database migrated to head, whatever database the suite runs on:
    ``(url, name)``; dropped afterwards. Skips, saying why, when no server answers."""
    import psycopg

    name = f"gatehouse_{uuid.uuid4().hex[:12]}"
    try:
        postgres_admin(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_ADMIN_URL}: {exc}")
    base = make_url(POSTGRES_ADMIN_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    url = base.set(database=name).render_as_string(hide_password=False)
    migrating = create_app(
        {
            "GATEHOUSE_DATABASE_URL": url,
            "GATEHOUSE_KEYS_DIR": keys_dir,
            "GATEHOUSE_INSTANCE_DIR": tmp_path / "migrating",
        }
    )
    with migrating.app_context():
        upgrade(directory=migrating.extensions["migrate"].directory)
        catalogue.seed_defaults()
        db.engine.dispose()
    try:
        yield url, name
    finally:
        postgres_admin(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def redis_url() -> Iterator[str]:
    """A Redis for shared counters; the only reason a Redis test skips is none answering."""
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(TEST_REDIS_URL, socket_timeout=0.5, socket_connect_timeout=0.5)
    try:
        client.ping()
    except redis.RedisError as exc:
        client.close()
        pytest.skip(f"Redis unreachable at {TEST_REDIS_URL} (set GATEHOUSE_TEST_REDIS_URL): {exc}")
    yield TEST_REDIS_URL
    client.close()


@pytest.fixture
def address_prefix(redis_url: str) -> Iterator[str]:
    """Source addresses of our own, so reruns and parallel runs never share a Redis count."""
    import redis

    prefix = f"test-{uuid.uuid4().hex}"
    yield prefix
    client = redis.Redis.from_url(redis_url, socket_timeout=0.5)
    for key in client.scan_iter(match=f"gatehouse:*{prefix}-*"):
        client.delete(key)
    client.close()


@pytest.fixture
def logged() -> Iterator[Callable[[], list[dict]]]:
    """The JSON lines the ``app`` loggers wrote so far in the test, each parsed."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("app")
    logger.addHandler(handler)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        logger.removeHandler(handler)

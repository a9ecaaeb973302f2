"""Gatehouse: an OAuth 2.0 authorization server for machine-to-machine access."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path

from flask import Flask
from sqlalchemy import event
from werkzeug.middleware.proxy_fix import ProxyFix

from app import health
from app.cli import register_cli
from app.config import Settings, load_settings
from app.console import init_console
from app.extensions import db, migrate
from app.handlers import register_error_handlers
from app.logs import configure_logging
from app.oauth import init_oauth
from app.request import GatehouseRequest
from app.services.client_state import ClientState
from app.services.keys import KeyStore
from app.services.ratelimit import LOGIN_LIMIT, LOGIN_WINDOW, FailureLimiter
from app.services.runtime import EXTENSION, Runtime
from app.sessions import ConsoleSessionInterface

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
MAX_BODY = 64 * 1024


def create_app(test_config: Mapping[str, object] | None = None) -> Flask:
    """Build an app: settings, extensions, runtime state, OAuth server, routes, errors."""
    settings = load_settings(test_config)
    configure_logging()
    app = Flask(__name__, instance_path=str(settings.instance_dir))
    app.request_class = GatehouseRequest
    app.config.update(
        SQLALCHEMY_DATABASE_URI=settings.database_url,
        SQLALCHEMY_ENGINE_OPTIONS=_engine_options(settings.database_url),
        MAX_CONTENT_LENGTH=MAX_BODY,
        MAX_FORM_MEMORY_SIZE=MAX_BODY,
        SECRET_KEY=settings.secret_key or _instance_secret_key(settings.instance_dir),
    )
    if settings.trusted_proxies:
        hops = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]

    app.session_interface = ConsoleSessionInterface()
    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR))
    with app.app_context():
        _tune_sqlite(settings)
        _tune_postgres(settings)
    _init_runtime(app, settings)
    _register_rooms(app)
    register_error_handlers(app)
    return app


def _engine_options(url: str) -> dict[str, object]:
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": 30}}
    # a hung or unreachable server must become a 503 quickly, not a worker killed at 30 s
    return {
        "pool_pre_ping": True,
        "pool_size": 5,
        "max_overflow": 5,
        "pool_timeout": 5,
        "connect_args": {"connect_timeout": 3},
    }


def _tune_sqlite(settings: Settings) -> None:
    """WAL mode, foreign keys and a busy timeout on every SQLite connection."""
    if not settings.database_url.startswith("sqlite"):
        return
    settings.instance_dir.mkdir(parents=True, exist_ok=True)

    @event.listens_for(db.engine, "connect")
    def _pragmas(dbapi_connection, _record) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()


def _tune_postgres(settings: Settings) -> None:
    """A statement that hangs becomes an error (then a 503) instead of a stuck worker.

    Set per connection rather than through ``options`` in the connect arguments, which
    would replace any ``options`` (a ``search_path``, say) given in the database URL.
    """
    if not settings.database_url.startswith("postgresql"):
        return

    @event.listens_for(db.engine, "connect")
    def _timeouts(dbapi_connection, _record) -> None:
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SET statement_timeout = 10000")
        dbapi_connection.commit()


def _instance_secret_key(instance_dir: Path) -> str:
    """The session key generated once into the instance folder (mode 0600)."""
    path = instance_dir / "secret_key"
    if not path.exists():
        instance_dir.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(48))
        except FileExistsError:
            pass  # another worker wrote it first
    return path.read_text().strip()


def _init_runtime(app: Flask, settings: Settings) -> None:
    app.extensions[EXTENSION] = Runtime(
        settings=settings,
        keys=KeyStore(settings.keys_dir, settings.token_ttl),
        clients=ClientState(),
        client_failures=FailureLimiter(
            settings.auth_failures_per_minute, redis_url=settings.redis_url
        ),
        login_failures=FailureLimiter(
            LOGIN_LIMIT, window=LOGIN_WINDOW, name="loginfail", redis_url=settings.redis_url
        ),
    )


def _register_rooms(app: Flask) -> None:
    register_cli(app)
    init_oauth(app)
    app.register_blueprint(health.bp)
    init_console(app)

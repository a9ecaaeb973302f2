"""``create_app``: what a Gatehouse app is made of, in the order it is put together."""

from __future__ import annotations

from collections.abc import Mapping

from flask import Flask

from app import health, http_errors, http_policy
from app.config import Settings, load_settings
from app.console import init_console
from app.database import init_database
from app.logs import configure_logging
from app.oauth import init_oauth
from app.request import GatehouseRequest
from app.security.passwords import Passwords
from app.services.assertion_replay import ReplayGuard
from app.services.cache import TTLCache
from app.services.client_cache import ClientCache
from app.services.denylist import Denylist
from app.services.ratelimit import LOGIN_LIMIT, LOGIN_WINDOW, FailureLimiter
from app.services.runtime import EXTENSION, Runtime
from app.services.signing_keys import KeyStore
from app.services.usage import UsageRecorder

#: the largest request body accepted anywhere (413 beyond)
MAX_BODY = 64 * 1024


def create_app(test_config: Mapping[str, object] | None = None) -> Flask:
    """Build an app from the environment, or from ``test_config`` alone (tests)."""
    settings = load_settings(test_config)
    configure_logging()
    app = Flask("app", instance_path=str(settings.instance_dir))
    app.request_class = GatehouseRequest
    app.config.update(MAX_CONTENT_LENGTH=MAX_BODY, MAX_FORM_MEMORY_SIZE=MAX_BODY)
    init_database(app, settings)
    app.extensions[EXTENSION] = _runtime(settings)
    http_policy.install(app, settings)
    init_oauth(app)
    app.register_blueprint(health.bp)
    init_console(app)
    http_errors.register(app)
    return app


def _runtime(settings: Settings) -> Runtime:
    """The state the services share in this app (keys, caches, limiters)."""
    return Runtime(
        settings=settings,
        keys=KeyStore(settings.keys_dir, settings.token_ttl),
        passwords=Passwords(settings.argon2),
        clients=ClientCache(),
        denylist=Denylist(),
        usage=UsageRecorder(),
        client_failures=FailureLimiter(
            settings.auth_failures_per_minute, redis_url=settings.redis_url
        ),
        login_failures=FailureLimiter(
            LOGIN_LIMIT, window=LOGIN_WINDOW, name="loginfail", redis_url=settings.redis_url
        ),
        leak_reports=FailureLimiter(
            settings.auth_failures_per_minute, name="leakreport", redis_url=settings.redis_url
        ),
        replays=ReplayGuard(settings.redis_url),
        verified=TTLCache(ttl=300, max_entries=10_000),
    )

"""``create_app``: what a Gatehouse app is made of, in the order it is put together."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from inspect import iscoroutinefunction
from types import FunctionType, MethodType
from typing import Any

from flask import Flask

from app import health, http_errors, http_policy, instrumentation
from app.api import init_api
from app.config import Settings, load_settings
from app.console import init_console
from app.database import init_database
from app.logs import configure_logging
from app.oauth import fast_path, init_oauth
from app.request import GatehouseRequest
from app.security.networks import limit_key
from app.security.passwords import Passwords
from app.services.assertion_replay import ReplayGuard
from app.services.cache import TTLCache
from app.services.change_feed import ChangeFeed, SharedCounter
from app.services.client_cache import ClientCache
from app.services.counters import instance_counters
from app.services.denylist import Denylist
from app.services.ratelimit import (
    LOGIN_ADDRESS_LIMIT,
    LOGIN_ADDRESS_WINDOW,
    LOGIN_LIMIT,
    LOGIN_WINDOW,
    FailureLimiter,
)
from app.services.runtime import EXTENSION, Runtime
from app.services.signing_keys import KeyStore
from app.services.slots import Slots
from app.services.usage import UsageRecorder

#: the largest request body accepted anywhere (413 beyond)
MAX_BODY = 64 * 1024


class GatehouseApp(Flask):
    """Flask, deciding once per view or hook function whether it is a coroutine function.

    Flask asks ``inspect`` on every call, six times a request here; deciding once
    cut 2.5% of the instructions of ``/introspect`` (callgrind, ES256, SQLite: 968k to
    944k a request) and of ``/token`` (1,347k to 1,315k). The answer is remembered per
    function: a bound method (a hook of an extension, a class-based view, which hands
    Flask a new bound method on every request) is decided by the function it binds, so
    the memory holds one entry per function the app was built with.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._is_async: dict[FunctionType, bool] = {}

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        function = func.__func__ if type(func) is MethodType else func
        if type(function) is not FunctionType:
            return super().ensure_sync(func)
        is_async = self._is_async.get(function)
        if is_async is None:
            is_async = self._is_async[function] = iscoroutinefunction(function)
        return self.async_to_sync(func) if is_async else func


def create_app(test_config: Mapping[str, object] | None = None) -> Flask:
    """Build an app from the environment, or from ``test_config`` alone (tests)."""
    settings = load_settings(test_config)
    configure_logging()
    app = GatehouseApp("app", instance_path=str(settings.instance_dir))
    app.request_class = GatehouseRequest
    app.config.update(MAX_CONTENT_LENGTH=MAX_BODY, MAX_FORM_MEMORY_SIZE=MAX_BODY)
    init_database(app, settings)
    app.extensions[EXTENSION] = _runtime(settings)
    fast_path.install(app, MAX_BODY)  # first: proxies and instrumentation wrap it
    http_policy.install(app, settings)
    instrumentation.install(app, settings.trusted_proxies)
    init_oauth(app)
    app.register_blueprint(health.bp)
    init_api(app)
    init_console(app)
    # browsers and tools ask for /favicon.ico whatever the page links
    app.add_url_rule("/favicon.ico", "favicon", lambda: app.send_static_file("favicon.ico"))
    http_errors.register(app)
    return app


def _runtime(settings: Settings) -> Runtime:
    """The state the services share in this app (keys, caches, limiters)."""
    changes = ChangeFeed(SharedCounter(settings.instance_dir / "client-changes.counter"))
    counters = instance_counters(settings.instance_dir, settings.redis_url)
    return Runtime(
        settings=settings,
        keys=KeyStore(settings.keys_dir, settings.token_ttl),
        passwords=Passwords(settings.argon2),
        changes=changes,
        clients=ClientCache(changes),
        denylist=Denylist(changes),
        usage=UsageRecorder(),
        client_failures=FailureLimiter(
            settings.auth_failures_per_minute, counters=counters, counted_as=limit_key
        ),
        login_failures=FailureLimiter(
            LOGIN_LIMIT, window=LOGIN_WINDOW, name="loginfail", counters=counters
        ),
        login_address_failures=FailureLimiter(
            LOGIN_ADDRESS_LIMIT,
            window=LOGIN_ADDRESS_WINDOW,
            name="loginaddr",
            counters=counters,
            counted_as=limit_key,
        ),
        password_slots=Slots(settings.instance_dir / "sign-in-slots", settings.sign_in_slots),
        leak_reports=FailureLimiter(
            settings.auth_failures_per_minute,
            name="leakreport",
            counters=counters,
            counted_as=limit_key,
        ),
        replays=ReplayGuard(settings.redis_url),
        verified=TTLCache(ttl=300, max_entries=10_000),
    )

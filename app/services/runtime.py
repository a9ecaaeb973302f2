"""Per-app runtime state the services share: settings, keys, caches, limiters.

Built once in ``create_app`` and kept in ``app.extensions["gatehouse"]`` (tests
build many apps, so nothing of this lives in a module global).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import current_app

from app.config import Settings
from app.services.cache import TTLCache
from app.services.client_state import ClientState
from app.services.keys import KeyStore
from app.services.ratelimit import FailureLimiter

EXTENSION = "gatehouse"


@dataclass
class Runtime:
    settings: Settings
    keys: KeyStore
    clients: ClientState
    #: failed client authentications per address; failed sign-ins per email and address
    client_failures: FailureLimiter
    login_failures: FailureLimiter
    #: token string -> (key generation, claims) of tokens whose signature checked out
    verified: TTLCache = field(default_factory=lambda: TTLCache(ttl=300, max_entries=10_000))


def runtime() -> Runtime:
    """The current app's runtime state."""
    return current_app.extensions[EXTENSION]


def settings() -> Settings:
    """The current app's settings."""
    return runtime().settings

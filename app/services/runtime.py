"""Per-app runtime state the services share: settings, keys, caches, the limiter.

Built once in ``create_app`` and kept in ``app.extensions["gatehouse"]`` (tests
build many apps, so nothing of this lives in a module global).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from app.config import Settings
from app.services.client_state import ClientState
from app.services.keys import KeyStore
from app.services.ratelimit import FailureLimiter

EXTENSION = "gatehouse"


@dataclass
class Runtime:
    settings: Settings
    keys: KeyStore
    clients: ClientState
    limiter: FailureLimiter


def runtime() -> Runtime:
    """The current app's runtime state."""
    return current_app.extensions[EXTENSION]


def settings() -> Settings:
    """The current app's settings."""
    return runtime().settings

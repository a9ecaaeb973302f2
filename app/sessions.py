"""Cookie sessions only where people are: machine endpoints never open one.

Flask opens and saves the signed-cookie session on every request, building
an itsdangerous serializer each time; on ``/token`` and ``/introspect`` that
is pure overhead (and a session cookie has no business there).
"""

from __future__ import annotations

from flask import Flask, Request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface

MACHINE_PREFIXES = (
    "/token",
    "/introspect",
    "/revoke",
    "/revocations",
    "/.well-known/",
    "/healthz",
    "/readyz",
    "/metrics",
    "/api/",
)


class ConsoleSessionInterface(SecureCookieSessionInterface):
    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        """No session for machine paths (Flask then uses an empty null session)."""
        if is_machine_path(request.path):
            return None
        return super().open_session(app, request)


_EXACT = frozenset(MACHINE_PREFIXES)
_BELOW = tuple(prefix.rstrip("/") + "/" for prefix in MACHINE_PREFIXES)


def is_machine_path(path: str) -> bool:
    """``/token`` and ``/token/...`` but not the console's ``/tokens``: whole segments only."""
    return path in _EXACT or path.startswith(_BELOW)

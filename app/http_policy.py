"""App-wide request policy, the same for every room: which paths are machine paths,
cookie sessions only for people, CSRF on every request a browser session can make,
security headers by kind of response, and the client's source address.

Machine paths (``/token``, ``/api/`` …) authenticate with client credentials or
bearer tokens. They never open a cookie session, so a forged cross-site request
carries nothing to abuse there, and CSRF is not checked on them. Everything else
is for people: a session cookie, and CSRF on every POST. Deciding by path means a
new page anywhere is protected without anyone remembering to ask.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from flask import Flask, Request, Response, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from werkzeug.middleware.proxy_fix import ProxyFix

from app.config import Settings
from app.extensions import csrf
from app.instance import private_dir, private_file
from app.security.networks import without_port

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

MACHINE_PREFIXES = (
    "/token",
    "/introspect",
    "/revoke",
    "/revocations",
    "/credentials/",
    "/.well-known/",
    "/healthz",
    "/readyz",
    "/metrics",
    "/api/",
)
_EXACT = frozenset(MACHINE_PREFIXES)
_BELOW = tuple(prefix.rstrip("/") + "/" for prefix in MACHINE_PREFIXES)

#: no inline script or style anywhere: every asset comes from /static
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
SESSION_LIFETIME = timedelta(hours=8)


def is_machine_path(path: str) -> bool:
    """``/token`` and ``/token/...`` but not the console's ``/tokens``: whole segments only."""
    return path in _EXACT or path.startswith(_BELOW)


def client_address(current: Request | None = None) -> str:
    """The caller's address: the TCP peer, or the one ``GATEHOUSE_TRUSTED_PROXIES`` hops back
    in ``X-Forwarded-For`` (``ProxyFix`` has rewritten ``REMOTE_ADDR`` by then).

    Hot paths pass the request object itself: through Flask's context-local proxy the
    lookup costs more than the rest of this function.
    """
    return environ_address((current if current is not None else request).environ)


def environ_address(environ: dict) -> str:
    """``client_address`` of a WSGI environ (the fast path has no request object)."""
    return environ.get("REMOTE_ADDR") or "unknown"


class BehindProxies:
    """``ProxyFix`` for ``hops`` trusted proxies, with the client's address it takes from
    ``X-Forwarded-For`` read strictly.

    - Quotes go before ``ProxyFix`` reads the header: it parses the header as an
      RFC 9110 list, where an unbalanced quote makes the whole list empty, and then
      keeps the proxy's own address. A client writing ``X-Forwarded-For: x"`` in front
      of what its proxy appends would pose as the proxy: inside its allowed networks,
      counted against everyone behind it. Addresses hold no quotes.
    - A port goes after: some proxies (Azure Application Gateway, for one) write
      ``192.0.2.1:50312``. Kept, each connection would have its own failure count and
      match no allowed network.
    """

    def __init__(self, wsgi_app: WSGIApplication, hops: int) -> None:
        self.next = wsgi_app
        self.proxy_fix = ProxyFix(self._without_port, x_for=hops, x_proto=hops, x_host=hops)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        forwarded = environ.get("HTTP_X_FORWARDED_FOR")
        if forwarded and '"' in forwarded:
            environ["HTTP_X_FORWARDED_FOR"] = forwarded.replace('"', "")
        return self.proxy_fix(environ, start_response)

    def _without_port(
        self, environ: WSGIEnvironment, start_response: StartResponse
    ) -> Iterable[bytes]:
        address = environ.get("REMOTE_ADDR")
        if address:
            environ["REMOTE_ADDR"] = without_port(address)
        return self.next(environ, start_response)


class PeopleOnlySessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, never opened on machine paths.

    Flask opens and saves the session on every request, building a serializer each
    time; on ``/token`` that is pure overhead, and a cookie has no business there.
    """

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if is_machine_path(request.path):
            return None  # Flask then uses an empty null session
        return super().open_session(app, request)


def install(app: Flask, settings: Settings) -> None:
    """Proxies, sessions, CSRF and security headers for ``app``."""
    if settings.trusted_proxies:
        app.wsgi_app = BehindProxies(app.wsgi_app, settings.trusted_proxies)  # type: ignore[method-assign]
    https = settings.serves_https
    _configure_sessions(app, settings, https)
    _install_csrf(app)
    _install_headers(app, https)


def _configure_sessions(app: Flask, settings: Settings, https: bool) -> None:
    """Session cookie: HttpOnly, SameSite=Lax, Secure when the issuer is https."""
    app.session_interface = PeopleOnlySessionInterface()
    app.config.update(
        SECRET_KEY=settings.secret_key or _instance_secret_key(settings.instance_dir),
        SESSION_COOKIE_NAME="gatehouse_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=https,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=https,
        PERMANENT_SESSION_LIFETIME=SESSION_LIFETIME,
        # a form's token lives as long as the session, not an hour
        WTF_CSRF_TIME_LIMIT=None,
    )


def _instance_secret_key(instance_dir: Path) -> str:
    """The session key generated once into the instance folder (mode 0600)."""
    path = private_dir(instance_dir) / "secret_key"
    if not path.exists():
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(48))
        except FileExistsError:
            pass  # another worker wrote it first
    return private_file(path).read_text().strip()


def _install_csrf(app: Flask) -> None:
    """CSRF on every request a browser session can make: everything but the machine paths.

    This replaces Flask-WTF's default hook and its per-request exemption lookups
    (Flask-WTF documents ``WTF_CSRF_CHECK_DEFAULT = False`` with a hook of one's own).
    """
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    csrf.init_app(app)

    @app.before_request
    def check_csrf() -> None:
        # an unrouted request goes on to its 404, as with Flask-WTF's own hook
        if not is_machine_path(request.path) and request.endpoint:
            csrf.protect()


def machine_headers(https: bool) -> dict[str, str]:
    """The security headers of a machine path's JSON answer (HSTS when served over https)."""
    headers = {"X-Content-Type-Options": "nosniff"}
    if https:
        headers["Strict-Transport-Security"] = "max-age=31536000"
    return headers


def _install_headers(app: Flask, https: bool) -> None:
    """Security headers on every page; JSON on machine paths gets only the ones that apply.

    Each header costs a scan of the response headers, and ``/token`` is a hot path.
    They are set, not defaulted: no view sets its own, and a lookup of an absent
    header makes werkzeug build an exception.

    ``Referrer-Policy: same-origin`` rather than ``no-referrer``: over https Flask-WTF
    checks that a form POST carries a same-site ``Referer`` (and with ``no-referrer``
    browsers send ``Origin: null``), while nothing leaks to other sites either way.
    """
    page = {
        "Content-Security-Policy": CONTENT_SECURITY_POLICY,
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "same-origin",
        "X-Content-Type-Options": "nosniff",
    }
    machine = machine_headers(https)
    if https:
        page["Strict-Transport-Security"] = machine["Strict-Transport-Security"]

    @app.after_request
    def secure(response: Response) -> Response:
        wanted = machine if is_machine_path(request.path) else page
        for name, value in wanted.items():
            response.headers.set(name, value)
        return response

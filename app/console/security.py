"""Response headers and cookie settings that keep the console's pages safe in a browser."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask, Response, request

from app.extensions import csrf
from app.sessions import is_machine_path

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


def configure_cookies(app: Flask, https: bool) -> None:
    """Session cookie: HttpOnly, SameSite=Lax, Secure when the issuer is https."""
    app.config.update(
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


def install_csrf(app: Flask) -> None:
    """CSRF on every request a browser session can make: everything but the machine paths.

    Machine paths (``/token``, ``/api/`` …) never open a cookie session
    (``app.sessions``), so a forged cross-site request carries nothing to abuse
    there; they authenticate with client credentials. Deciding by path, with the
    same list the session interface uses, replaces Flask-WTF's default hook and
    its per-request exemption lookups (the hot paths' cost; Flask-WTF documents
    ``WTF_CSRF_CHECK_DEFAULT = False`` with a hook of one's own for this). A new
    page anywhere else is protected without anyone remembering to ask.
    """
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    csrf.init_app(app)

    @app.before_request
    def check_csrf() -> None:
        # an unrouted request goes on to its 404, as with Flask-WTF's own hook
        if not is_machine_path(request.path) and request.endpoint:
            csrf.protect()


def install_headers(app: Flask, https: bool) -> None:
    """Security headers on every page; JSON on machine paths gets only the ones that apply.

    Each header costs a scan of the response headers, and ``/token`` is a hot path.
    They are set, not defaulted: no view sets its own, and a lookup of an absent
    header makes werkzeug build an exception.

    ``Referrer-Policy: same-origin`` rather than ``no-referrer``: over https Flask-WTF
    checks that a form POST carries a same-site ``Referer`` (and with ``no-referrer``
    browsers send ``Origin: null``), while nothing leaks to other sites either way.
    """
    headers = {
        "Content-Security-Policy": CONTENT_SECURITY_POLICY,
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "same-origin",
        "X-Content-Type-Options": "nosniff",
    }
    machine = {"X-Content-Type-Options": "nosniff"}
    if https:
        headers["Strict-Transport-Security"] = machine["Strict-Transport-Security"] = (
            "max-age=31536000"
        )

    @app.after_request
    def secure(response: Response) -> Response:
        wanted = machine if is_machine_path(request.path) else headers
        for name, value in wanted.items():
            response.headers.set(name, value)
        return response

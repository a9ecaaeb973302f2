"""Response headers and cookie settings that keep the console's pages safe in a browser."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask, Response, request

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


def install_headers(app: Flask, https: bool) -> None:
    """Security headers on every page; JSON on machine paths gets only the ones that apply.

    Each header costs a scan of the response headers, and ``/token`` is a hot path.

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
            response.headers.setdefault(name, value)
        return response

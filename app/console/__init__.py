"""The console room: server-rendered pages for people (SPEC section 5, "Admin console").

Sign-in, the token list, the generate wizard, a token's page, users and the audit
log. Every query and rule is a call into ``app.services``; this package holds
views, forms, templates (``app/templates/console``) and nothing else.
"""

from __future__ import annotations

from flask import Flask

# the route modules register their views on ``bp`` when imported
from app.console import audit_log, auth, errors, generate, people, tokens  # noqa: F401
from app.console.blueprint import bp
from app.console.security import configure_cookies, install_csrf, install_headers
from app.extensions import login_manager
from app.services.runtime import EXTENSION as RUNTIME


def init_console(app: Flask) -> None:
    """Sessions, CSRF, sign-in, security headers and the console's routes."""
    https = app.extensions[RUNTIME].settings.issuer.startswith("https://")
    configure_cookies(app, https)
    install_headers(app, https)
    install_csrf(app)
    login_manager.init_app(app)
    login_manager.login_view = "console.login"
    login_manager.login_message = "Sign in to continue."
    login_manager.login_message_category = "info"
    app.register_blueprint(bp)

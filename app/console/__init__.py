"""The console room: server-rendered pages for people, signed in with a session cookie.

Sign-in, the dashboard, the token list, the generate wizard, a token's page, users
and the audit log. Every query and rule is a call into ``app.services``; this package holds
views, forms, templates (``app/templates/console``) and nothing else.
"""

from __future__ import annotations

from flask import Flask

# the route modules register their views on ``bp`` when imported
from app.console import (  # noqa: F401
    audit_log,
    auth,
    dashboard,
    errors,
    generate,
    token_pages,
    user_pages,
)
from app.console.blueprint import bp
from app.extensions import login_manager


def init_console(app: Flask) -> None:
    """Sign-in and the console's routes (sessions and CSRF are ``app.http_policy``'s)."""
    login_manager.init_app(app)
    login_manager.login_view = "console.login"
    # the sign-in page says what it is: a first visit is not greeted with a demand
    login_manager.login_message = None
    app.register_blueprint(bp)
    # Flask-Login's remember-cookie hook reads the session after every request; only
    # the console signs people in and out, so only the console's responses run it
    remember_hook = login_manager._update_remember_cookie
    app.after_request_funcs[None].remove(remember_hook)
    app.after_request_funcs.setdefault(bp.name, []).append(remember_hook)

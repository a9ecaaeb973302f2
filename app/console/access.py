"""Who is signed in: the Flask-Login user, the acting ``Actor``, and the admin-only guard."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from flask import session
from flask_login import UserMixin, current_user, login_required, login_user, logout_user

from app.errors import Forbidden
from app.extensions import login_manager
from app.http_policy import client_address
from app.models import User
from app.services import console_sessions
from app.services.actors import Actor

F = TypeVar("F", bound=Callable[..., Any])
#: the session cookie's key holding the token of the server-side session
SESSION_KEY = "gatehouse.session"


def _fingerprint(user: User) -> str:
    """Changes with the password hash, so setting a new password ends older sessions."""
    return hashlib.sha256((user.password_hash or "").encode()).hexdigest()[:16]


class SessionUser(UserMixin):
    """Flask-Login's view of a ``User`` (the model stays free of Flask-Login)."""

    def __init__(self, user: User) -> None:
        self.user = user

    def get_id(self) -> str:
        return f"{self.user.id}.{_fingerprint(self.user)}"

    @property
    def is_admin(self) -> bool:
        return self.user.is_admin


@login_manager.user_loader
def load_user(session_id: str) -> SessionUser | None:
    """The signed-in user: their server-side session still live (not signed out, not past
    its absolute lifetime), the user still active, their password unchanged since."""
    raw_id, _, fingerprint = session_id.partition(".")
    user = console_sessions.user_of(session.get(SESSION_KEY))
    if user is None or str(user.id) != raw_id or _fingerprint(user) != fingerprint:
        return None
    return SessionUser(user)


def begin_session(user: User) -> None:
    """Sign ``user`` in with a fresh session (no fixation), known to the server."""
    session.clear()
    login_user(SessionUser(user))
    session[SESSION_KEY] = console_sessions.start(user)
    session.permanent = True


def end_session() -> None:
    """Sign out here and on the server: a saved copy of the cookie opens nothing after."""
    console_sessions.end(session.get(SESSION_KEY))
    logout_user()
    session.clear()


def session_token() -> str | None:
    """The token of this browser's server-side session (None when not signed in)."""
    return session.get(SESSION_KEY)


def signed_in() -> SessionUser:
    return cast(SessionUser, current_user._get_current_object())


def actor() -> Actor:
    """The signed-in person as the services' ``Actor``, with the request's address."""
    return Actor.person(signed_in().user, client_address())


def admin_required(view: F) -> F:
    """Signed in as an administrator, or 403."""

    @wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        if not signed_in().is_admin:
            raise Forbidden("Only administrators can open this page.")
        return view(*args, **kwargs)

    return cast(F, login_required(guarded))


def safe_next(target: str | None) -> str | None:
    """A same-site path to return to after sign-in, never another site (open redirect).

    Browsers drop tabs and newlines from URLs (``/\t/evil`` becomes ``//evil``), so any
    control character or backslash refuses the target outright.
    """
    if not target or not target.startswith("/") or "\\" in target:
        return None
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or target.startswith("//"):
        return None
    return target

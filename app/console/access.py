"""Who is signed in: the Flask-Login user, the acting ``Actor``, and the admin-only guard."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from flask_login import UserMixin, current_user, login_required

from app.errors import Forbidden
from app.extensions import login_manager
from app.http_policy import client_address
from app.models import User
from app.services import users
from app.services.actors import Actor

F = TypeVar("F", bound=Callable[..., Any])


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
    """The signed-in user, if still active and their password unchanged since sign-in."""
    raw_id, _, fingerprint = session_id.partition(".")
    if not raw_id.isdigit():
        return None
    user = users.get_active(int(raw_id))
    if user is None or _fingerprint(user) != fingerprint:
        return None
    return SessionUser(user)


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

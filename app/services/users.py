"""People: administrators and members, their passwords and the services they hold.

A leaf of the domain layer: it knows nothing of clients. Deactivating a user,
which also revokes their clients, is ``offboarding.deactivate_user``.
"""

from __future__ import annotations

import re
import secrets

from sqlalchemy import func, select

from app.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.extensions import db
from app.models import Service, User
from app.security.passwords import MIN_LENGTH
from app.services import audit
from app.services.actors import Actor
from app.services.paging import Page, paginate
from app.services.runtime import runtime
from app.services.transaction import transaction

ROLES = ("admin", "member")
EMAIL_PATTERN = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$|^[^@\s]{1,64}@localhost$")


def normalise_email(email: str) -> str:
    """Trimmed and lower-cased: emails are unique case-insensitively."""
    return email.strip().lower()


def _validate(email: str, name: str, role: str, password: str | None) -> None:
    if len(email) > 254 or not EMAIL_PATTERN.match(email):
        raise InvalidInput(f"'{email}' is not a valid email address", {"email": "invalid"})
    if not name.strip() or len(name) > 200:
        raise InvalidInput("name must be 1-200 characters", {"name": "invalid"})
    if role not in ROLES:
        raise InvalidInput("role must be 'admin' or 'member'", {"role": "invalid"})
    if password is not None:
        _check_password(password)


def _check_password(password: str) -> None:
    if len(password) < MIN_LENGTH:
        raise InvalidInput(
            f"password must be at least {MIN_LENGTH} characters", {"password": "too_short"}
        )


def _services(keys: list[str]) -> list[Service]:
    wanted = sorted(set(keys))
    found = list(db.session.scalars(select(Service).where(Service.key.in_(wanted))))
    unknown = sorted(set(wanted) - {service.key for service in found})
    if unknown:
        raise InvalidInput(f"unknown service(s): {', '.join(unknown)}", {"services": "unknown"})
    return found


def create_user(
    actor: Actor,
    email: str,
    name: str,
    role: str = "member",
    services: list[str] | None = None,
    password: str | None = None,
) -> User:
    """Add a user (admins); without a password they cannot sign in until an admin sets one."""
    _require_admin(actor)
    email = normalise_email(email)
    _validate(email, name, role, password)
    duplicate = f"a user with email {email} already exists"
    with transaction(conflict=duplicate):
        if db.session.scalars(select(User).where(User.email == email)).first():
            raise Conflict(duplicate, {"email": "duplicate"})
        user = User(
            email=email,
            name=name.strip(),
            role=role,
            password_hash=runtime().passwords.hash(password) if password else None,
            services=_services(services or []),
        )
        db.session.add(user)
        audit.record(actor, "user.create", email, role=role, services=sorted(services or []))
    return user


def list_users() -> list[User]:
    """Every user, by email."""
    return list(db.session.scalars(select(User).order_by(User.email)))


def page_users(actor: Actor, page: int = 1, per_page: int = 50) -> Page[User]:
    """One page of every user, by email (admins); a page past the end is empty."""
    _require_admin(actor)
    return paginate(select(User).order_by(User.email), page, per_page, clamp=False)


def get_by_email(email: str) -> User:
    """The user with this email (any case), or ``NotFound``."""
    user = db.session.scalars(select(User).where(User.email == normalise_email(email))).first()
    if user is None:
        raise NotFound(f"no user with email {email.strip()}", {"owner": "unknown"})
    return user


def ensure_admin(email: str | None, password: str | None) -> tuple[User, str | None] | None:
    """Create the first admin if there is no admin yet.

    Returns ``(user, generated_password)`` when one was created (the password is
    None when it was given), or None when an admin already exists.
    """
    if db.session.scalar(select(func.count()).select_from(User).where(User.role == "admin")):
        return None
    generated = None if password else secrets.token_urlsafe(18)
    user = create_user(
        Actor.cli(),
        email or "admin@localhost",
        "Administrator",
        role="admin",
        password=password or generated,
    )
    return user, generated


# -- sign-in and account changes (console, issue 3) ----------------------------
def authenticate(email: str, password: str) -> User | None:
    """The active user with this email and password, or None.

    An unknown, deactivated or password-less user costs the same argon2 time as a
    wrong password, so the answer does not reveal who exists.
    """
    passwords = runtime().passwords
    user = db.session.scalars(select(User).where(User.email == normalise_email(email))).first()
    if user is None or not user.active:
        passwords.verify(None, password)  # spend the same time as for a real user
        return None
    return user if passwords.verify(user.password_hash, password) else None


def get_by_id(user_id: int) -> User:
    """The user with this id, or ``NotFound``."""
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(f"no user {user_id}")
    return user


def get_active(user_id: int) -> User | None:
    """The user with this id if they may still sign in (sessions of deactivated users end)."""
    user = db.session.get(User, user_id)
    return user if user is not None and user.active else None


def _require_admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise Forbidden("only administrators may manage users")


def set_password(actor: Actor, email: str, password: str) -> User:
    """Set a user's password (admins); the user's other console sessions stop working."""
    _require_admin(actor)
    _check_password(password)
    with transaction():
        user = get_by_email(email)
        user.password_hash = runtime().passwords.hash(password)
        audit.record(actor, "user.set_password", user.email)
    return user


def deactivate(actor: Actor, email: str) -> User:
    """Switch a user off (admins; never oneself). Only ``offboarding`` calls this, in the
    transaction that also revokes the user's clients."""
    _require_admin(actor)
    with transaction():
        user = get_by_email(email)
        if actor.user is not None and actor.user.id == user.id:
            raise Forbidden("you cannot deactivate your own account", {"email": "self"})
        if user.active:
            user.active = False
            audit.record(actor, "user.deactivate", user.email)
    return user

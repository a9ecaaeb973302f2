"""People: administrators and members, their passwords and the services they hold."""

from __future__ import annotations

import re
import secrets

from sqlalchemy import func, select

from app.errors import Conflict, InvalidInput, NotFound
from app.extensions import db
from app.models import Service, User
from app.security.passwords import MIN_LENGTH, hash_password
from app.services import audit
from app.services.actors import Actor

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
    if password is not None and len(password) < MIN_LENGTH:
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
    """Add a user; without a password they cannot sign in until an admin sets one."""
    email = normalise_email(email)
    _validate(email, name, role, password)
    if db.session.scalars(select(User).where(User.email == email)).first():
        raise Conflict(f"a user with email {email} already exists", {"email": "duplicate"})
    user = User(
        email=email,
        name=name.strip(),
        role=role,
        password_hash=hash_password(password) if password else None,
        services=_services(services or []),
    )
    db.session.add(user)
    audit.record(actor, "user.create", email, role=role, services=sorted(services or []))
    db.session.commit()
    return user


def list_users() -> list[User]:
    """Every user, by email."""
    return list(db.session.scalars(select(User).order_by(User.email)))


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

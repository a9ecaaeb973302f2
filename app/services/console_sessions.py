"""Console sessions the server knows: started at sign-in, ended by sign-out or by age.

The signed session cookie alone cannot be taken back: a copy saved before
signing out would stay valid, and a cookie refreshed by every request never
ages. So a sign-in also stores a row keyed by the SHA-256 of a random token
that the cookie carries; a request is signed in only while that row exists
and is younger than ``ABSOLUTE_LIFETIME`` (the cookie's own 8-hour idle limit
still applies). Signing out deletes the row.

The row also carries the nonce of the one secret page the session may still
show: ``expect_reveal`` sets it, and ``consume_reveal`` clears it in one
conditional update, so only one request can ever show that page, whatever
copies of the cookie are replayed.

Only console requests read these rows (one indexed read each); the machine
paths never open a cookie session.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select, update

from app.extensions import db
from app.models import ConsoleSession, User
from app.services.transaction import transaction

#: a session ends this long after sign-in, however active it stays
ABSOLUTE_LIFETIME = timedelta(hours=12)


def now() -> datetime:
    """Naive UTC now, from ``time.time`` (the clock the session cookie's signature uses)."""
    return datetime.fromtimestamp(time.time(), UTC).replace(tzinfo=None)


def _key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start(user: User) -> str:
    """A new session for ``user``: the token for the cookie (only its hash is stored)."""
    token = secrets.token_urlsafe(32)
    moment = now()
    with transaction():
        db.session.execute(delete(ConsoleSession).where(ConsoleSession.expires_at <= moment))
        db.session.add(
            ConsoleSession(
                id=_key(token),
                user_id=user.id,
                created_at=moment,
                expires_at=moment + ABSOLUTE_LIFETIME,
            )
        )
    return token


def user_of(token: str | None) -> User | None:
    """The active user of this live session, or None (signed out, too old, deactivated)."""
    if not token:
        return None
    return db.session.scalars(
        select(User)
        .join(ConsoleSession, ConsoleSession.user_id == User.id)
        .where(ConsoleSession.id == _key(token), ConsoleSession.expires_at > now(), User.active)
    ).first()


def end(token: str | None) -> None:
    """Sign out: the session is over, whatever copies of its cookie exist."""
    if token:
        with transaction():
            db.session.execute(delete(ConsoleSession).where(ConsoleSession.id == _key(token)))


def expect_reveal(token: str) -> str:
    """Let this session show one secret page: the nonce that page must present."""
    nonce = secrets.token_urlsafe(24)
    with transaction():
        db.session.execute(
            update(ConsoleSession)
            .where(ConsoleSession.id == _key(token))
            .values(reveal_nonce=nonce)
        )
    return nonce


def consume_reveal(token: str | None, nonce: str | None) -> bool:
    """True for exactly one request presenting the nonce ``expect_reveal`` gave."""
    if not token or not nonce:
        return False
    with transaction():
        result = db.session.execute(
            update(ConsoleSession)
            .where(ConsoleSession.id == _key(token), ConsoleSession.reveal_nonce == nonce)
            .values(reveal_nonce=None)
        )
    return result.rowcount == 1

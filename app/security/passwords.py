"""Passwords of people: argon2id via argon2-cffi (never used for client secrets)."""

import functools

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 12
_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the user is unknown, so timing does not reveal who exists.

    Made on first use, not at import: an argon2 hash costs every CLI call and worker ~0.1 s.
    """
    return _hasher.hash("gatehouse-dummy-password")


def hash_password(password: str) -> str:
    """Argon2id hash of a password."""
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """True when ``password`` matches; spends the same time when there is no hash."""
    try:
        return _hasher.verify(stored_hash or _dummy_hash(), password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False

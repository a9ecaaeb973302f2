"""Passwords of people: argon2id via argon2-cffi (never used for client secrets)."""

from __future__ import annotations

import functools

from argon2 import Parameters, PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 12


class Passwords:
    """Hashes and checks passwords with one app's argon2id parameters.

    A stored hash records the parameters it was made with, so a hash made under
    other parameters (an earlier setting) still verifies.
    """

    def __init__(self, parameters: Parameters) -> None:
        self._hasher = PasswordHasher.from_parameters(parameters)

    @functools.cached_property
    def _dummy_hash(self) -> str:
        """Verified against when the user is unknown, so timing does not reveal who exists.

        Made on first use, not at start-up: an argon2 hash costs every CLI call ~0.1 s.
        """
        return self._hasher.hash("gatehouse-dummy-password")

    def hash(self, password: str) -> str:
        """Argon2id hash of a password."""
        return self._hasher.hash(password)

    def verify(self, stored_hash: str | None, password: str) -> bool:
        """True when ``password`` matches; spends the same time when there is no hash."""
        try:
            matched = self._hasher.verify(stored_hash or self._dummy_hash, password)
        except (VerificationError, InvalidHashError):
            return False
        return matched and stored_hash is not None

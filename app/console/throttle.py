"""Slow down password guessing at ``/login``.

After ``LIMIT`` failed sign-ins for one email from one address within
``WINDOW`` seconds, that pair is refused (even with the right password) until
the oldest failure leaves the window. Counts live in this process's memory: with
N gunicorn workers an attacker gets at most N x LIMIT tries per window, and a
restart forgets them. That is enough against online guessing at argon2 speed;
a shared store (Redis) would make it exact.
"""

from __future__ import annotations

import threading
import time
from collections import deque

from flask import current_app

LIMIT = 5
WINDOW = 15 * 60
MAX_KEYS = 10_000
EXTENSION = "gatehouse.console.throttle"


class LoginThrottle:
    def __init__(self, limit: int = LIMIT, window: int = WINDOW) -> None:
        self.limit, self.window = limit, window
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        stamps = self._failures.get(key, deque())
        while stamps and stamps[0] <= now - self.window:
            stamps.popleft()
        return stamps

    def retry_after(self, email: str, address: str) -> int | None:
        """Seconds until this email may be tried again from this address, or None."""
        now = time.monotonic()
        with self._lock:
            stamps = self._recent((email, address), now)
            if len(stamps) < self.limit:
                return None
            return max(1, int(stamps[0] + self.window - now) + 1)

    def failed(self, email: str, address: str) -> None:
        now = time.monotonic()
        with self._lock:
            if len(self._failures) >= MAX_KEYS:
                self._sweep(now)
            stamps = self._recent((email, address), now)
            stamps.append(now)
            self._failures[(email, address)] = stamps

    def succeeded(self, email: str, address: str) -> None:
        with self._lock:
            self._failures.pop((email, address), None)

    def _sweep(self, now: float) -> None:
        for key in list(self._failures):
            if not self._recent(key, now):
                del self._failures[key]
        while len(self._failures) >= MAX_KEYS:  # flooded: forget the oldest pairs first
            del self._failures[next(iter(self._failures))]


def throttle() -> LoginThrottle:
    """This app's throttle (created by ``init_console``)."""
    return current_app.extensions[EXTENSION]

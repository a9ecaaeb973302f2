"""Failures counted per key in fixed time windows, in this process or in Redis.

Two uses, one mechanism:

- failed client authentications per source address (beyond 60 a minute,
  further *failures* get 429 with ``Retry-After``; a request whose credentials
  are right still succeeds, so legitimate traffic is never throttled by another
  client's failures, even from a shared address);
- failed console sign-ins per email and address (after 5 in 15 minutes the pair
  is refused, even with the right password, until the window ends).

With ``GATEHOUSE_REDIS_URL`` the counts are shared by every worker and instance;
without it (or while Redis is unreachable) each process counts on its own.
"""

from __future__ import annotations

import logging
import threading
import time

log = logging.getLogger(__name__)
MAX_LOCAL_KEYS = 100_000
#: console sign-ins: failures allowed per email and address, and the window (seconds)
LOGIN_LIMIT, LOGIN_WINDOW = 5, 15 * 60


class FailureLimiter:
    """``limit`` failures per key per ``window``; the next attempt must wait."""

    def __init__(
        self, limit: int, *, window: int = 60, name: str = "authfail", redis_url: str | None = None
    ) -> None:
        self.limit, self.window, self.name = limit, window, name
        self._counts: dict[str, int] = {}
        self._current = 0
        self._lock = threading.Lock()
        self._redis = None
        if redis_url:
            import redis

            self._redis = redis.Redis.from_url(redis_url, socket_timeout=0.5)

    def _now(self) -> tuple[int, int]:
        """The current window's number and the seconds left in it."""
        now = time.time()
        window = int(now // self.window)
        return window, max(1, int((window + 1) * self.window - now))

    def _key(self, key: str, window: int) -> str:
        return f"gatehouse:{self.name}:{key}:{window}"

    def retry_after(self, key: str) -> int | None:
        """Seconds to wait if ``key`` already failed ``limit`` times this window, else None."""
        window, remaining = self._now()
        count = self._redis_call("get", self._key(key, window))
        if count is None:
            count = self._counts.get(key, 0) if window == self._current else 0
        return remaining if int(count) >= self.limit else None

    def record_failure(self, key: str) -> None:
        """Count one failure for ``key``."""
        window, _ = self._now()
        if self._redis_call("incr", self._key(key, window), expire=self.window * 2) is not None:
            return
        with self._lock:
            if window != self._current or len(self._counts) >= MAX_LOCAL_KEYS:
                self._counts, self._current = {}, window
            self._counts[key] = self._counts.get(key, 0) + 1

    def forget(self, key: str) -> None:
        """Clear ``key``'s count (a success before the limit)."""
        window, _ = self._now()
        self._redis_call("delete", self._key(key, window))
        with self._lock:
            self._counts.pop(key, None)

    def _redis_call(self, command: str, key: str, expire: int | None = None) -> int | None:
        """Run one Redis command; None without Redis or when it is unreachable."""
        if self._redis is None:
            return None
        try:
            if expire is None:
                return int(getattr(self._redis, command)(key) or 0)
            pipe = self._redis.pipeline()
            getattr(pipe, command)(key)
            pipe.expire(key, expire)
            return int(pipe.execute()[0])
        except Exception as exc:  # noqa: BLE001 - Redis down: count in this process
            log.warning("rate-limit store unreachable, counting locally: %s", exc)
            return None

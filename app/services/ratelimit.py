"""Failed client authentications per source address, in one-minute windows.

SPEC: beyond ``GATEHOUSE_AUTH_FAILURES_PER_MINUTE`` (60) failures a minute from
one address, further *failures* get 429 with ``Retry-After``. A request whose
credentials are right still succeeds, so legitimate traffic is never throttled
by another client's failures, even from a shared address. Counts are kept in
Redis when ``GATEHOUSE_REDIS_URL`` is set (shared by all workers and
instances), otherwise per process.
"""

from __future__ import annotations

import logging
import threading
import time

log = logging.getLogger(__name__)
WINDOW = 60


class FailureLimiter:
    def __init__(self, limit: int, redis_url: str | None = None) -> None:
        self.limit = limit
        self._counts: dict[str, int] = {}
        self._current = 0
        self._lock = threading.Lock()
        self._redis = None
        if redis_url:
            import redis

            self._redis = redis.Redis.from_url(redis_url, socket_timeout=0.5)

    @staticmethod
    def _window() -> tuple[int, int]:
        now = time.time()
        window = int(now // WINDOW)
        return window, max(1, int((window + 1) * WINDOW - now))

    def record_failure(self, address: str) -> None:
        """Count one failed authentication from ``address``."""
        window, _ = self._window()
        if self._redis is not None and self._redis_incr(address, window):
            return
        with self._lock:
            if window != self._current:
                self._counts, self._current = {}, window
            self._counts[address] = self._counts.get(address, 0) + 1

    def retry_after(self, address: str) -> int | None:
        """Seconds to wait if ``address`` is over the limit, else None."""
        window, remaining = self._window()
        count = self._redis_count(address, window) if self._redis is not None else None
        if count is None:
            count = self._counts.get(address, 0) if window == self._current else 0
        return remaining if count > self.limit else None

    def _redis_incr(self, address: str, window: int) -> bool:
        key = f"gatehouse:authfail:{address}:{window}"
        try:
            pipe = self._redis.pipeline()
            pipe.incr(key)
            pipe.expire(key, WINDOW * 2)
            pipe.execute()
            return True
        except Exception as exc:  # noqa: BLE001 - Redis down: fall back to this process's count
            log.warning("rate-limit store unreachable, counting locally: %s", exc)
            return False

    def _redis_count(self, address: str, window: int) -> int | None:
        try:
            value = self._redis.get(f"gatehouse:authfail:{address}:{window}")
        except Exception:  # noqa: BLE001
            return None
        return int(value or 0)

"""Failures counted per key over a sliding window; beyond the limit, the caller waits.

Four uses, one mechanism:

- failed client authentications per source address (beyond 60 a minute,
  further *failures* get 429 with ``Retry-After``; a request whose credentials
  are right still succeeds and is never counted, so legitimate traffic is never
  throttled by another client's failures, even from a shared address);
- failed console sign-ins per email and address (after 5 in 15 minutes the pair
  is refused, even with the right password);
- failed console sign-ins per address, whatever the emails (20 a minute);
- leaked-credential reports per address, every report counted (as client
  authentications: 60 a minute).

The limiters per address count it under ``app.security.networks.limit_key`` (their
``counted_as``): an IPv4 address as itself however it arrives, an IPv6 caller as its
whole /64, which it could otherwise step through.

The window slides: the count is this fixed window's failures plus the previous
window's, weighted by how much of it still lies within one window of now (the
two-window estimate of a sliding window), so a burst straddling a window
boundary is counted whole. The counts are the instance's with or without Redis
(``app.services.counters``): every worker of one ``gatehouse serve`` shares
them through a file in the instance folder, and every instance through Redis.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from app.services.counters import Counters, MemoryCounters

#: console sign-ins: failures allowed per email and address, and the window (seconds)
LOGIN_LIMIT, LOGIN_WINDOW = 5, 15 * 60
#: console sign-ins: failures allowed per address whatever the email, and the window
LOGIN_ADDRESS_LIMIT, LOGIN_ADDRESS_WINDOW = 20, 60


class FailureLimiter:
    """``limit`` failures per key within any ``window`` seconds; further attempts wait.

    ``counted_as`` maps a key to the one it is counted under: for a limiter per
    address, ``app.security.networks.limit_key``, so that no caller can forget it.
    """

    def __init__(
        self,
        limit: int,
        *,
        window: int = 60,
        name: str = "authfail",
        counters: Counters | None = None,
        clock: Callable[[], float] = time.time,
        counted_as: Callable[[str], str] = str,
    ) -> None:
        self.limit, self.window, self.name = limit, window, name
        self.counters = counters if counters is not None else MemoryCounters()
        self.clock = clock
        self.counted_as = counted_as

    def retry_after(self, key: str) -> int | None:
        """Seconds to wait if ``key`` has already failed ``limit`` times, else None."""
        window, elapsed = self._now()
        current, previous = self.counters.get(self.name, self.counted_as(key), window)
        return self._wait(current, previous, elapsed)

    def fail(self, key: str) -> int | None:
        """Count one failure for ``key``: the seconds to wait if it was beyond the limit (the
        earlier failures had reached it), else None. One write, on the failure path only."""
        window, elapsed = self._now()
        current, previous = self.counters.add(self.name, self.counted_as(key), window, self.window)
        if self._wait(current - 1, previous, elapsed) is None:
            return None
        return self._wait(current, previous, elapsed)  # counting this one too

    def record_failure(self, key: str) -> None:
        """Count one failure for ``key``."""
        self.fail(key)

    def forget(self, key: str) -> None:
        """Clear ``key``'s count (a success before the limit)."""
        window, _ = self._now()
        self.counters.clear(self.name, self.counted_as(key), window)

    def _now(self) -> tuple[int, float]:
        """The current fixed window's number and the seconds elapsed in it."""
        now = self.clock()
        return int(now // self.window), now % self.window

    def _wait(self, current: int, previous: int, elapsed: float) -> int | None:
        """Seconds until the estimate falls below the limit again, or None if it is below.

        The estimate at ``elapsed`` seconds into this window is
        ``previous * (window - elapsed) / window + current``; the key is refused while
        it is over ``limit - 1`` (at least ``limit`` failures, rounding up). Counts are
        taken at most at ``limit``: failures made while refused keep the key refused but
        do not stretch the wait past the next window's first ``window / limit`` seconds.
        """
        limit, length = self.limit - 1, self.window
        current, previous = min(current, self.limit), min(previous, self.limit)
        if previous * (length - elapsed) / length + current <= limit:
            return None
        if current <= limit:  # the previous window's share fades out within this window
            wait = length - elapsed - (limit - current) * length / previous
        else:  # only in the next window, where this one's count is the fading share
            wait = (length - elapsed) + length * (1 - limit / current)
        return max(1, math.ceil(wait))

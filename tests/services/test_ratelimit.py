"""The failure limiter: a sliding count over two windows, kept where all workers see it."""

from __future__ import annotations

import functools
import multiprocessing
import time
from pathlib import Path

import pytest

from app.services.counters import Fallback, FileCounters, MemoryCounters, RedisCounters
from app.services.ratelimit import FailureLimiter
from tests.helpers import at_once

LIMIT, WINDOW = 5, 60


def _window_now() -> int:
    """The current window: the instance file prunes counts of windows long past."""
    return int(time.time() // WINDOW)


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _limiter(clock: Clock, counters=None) -> FailureLimiter:
    return FailureLimiter(LIMIT, window=WINDOW, counters=counters or MemoryCounters(), clock=clock)


def test_the_limit_th_failure_is_the_last_one_answered():
    limiter = _limiter(Clock(6000.0 + 10))
    assert [limiter.fail("a") for _ in range(LIMIT)] == [None] * LIMIT
    assert limiter.retry_after("a") is not None
    assert limiter.fail("a") is not None
    assert limiter.retry_after("b") is None  # another key


def test_a_burst_straddling_a_window_boundary_is_counted_whole():
    """Fixed windows let 2 x limit through around a boundary; the sliding count does not."""
    clock = Clock(6000.0 + WINDOW - 0.5)  # half a second before a boundary
    limiter = _limiter(clock)
    for _ in range(LIMIT):
        assert limiter.fail("a") is None
    clock.now += 1.0  # half a second after it
    assert limiter.retry_after("a") is not None
    assert limiter.fail("a") is not None


def test_the_previous_window_fades_out():
    clock = Clock(6000.0)
    limiter = _limiter(clock)
    for _ in range(LIMIT):
        limiter.fail("a")
    wait = limiter.retry_after("a")
    assert wait is not None and wait <= WINDOW + WINDOW // LIMIT
    clock.now += wait
    assert limiter.retry_after("a") is None  # Retry-After is honest
    assert limiter.fail("a") is None  # one more allowed ...
    assert limiter.fail("a") is not None  # ... and the key is refused again


@pytest.mark.parametrize("extra", [0, 1, 10, 1000])
def test_failures_while_refused_never_stretch_the_wait_past_a_fifth_of_the_next_window(extra):
    clock = Clock(6000.0)
    limiter = _limiter(clock)
    for _ in range(LIMIT + extra):
        limiter.fail("a")
    assert limiter.retry_after("a") <= WINDOW + WINDOW // LIMIT


def test_forget_clears_a_key():
    limiter = _limiter(Clock(6000.0))
    for _ in range(LIMIT):
        limiter.fail("a")
    limiter.forget("a")
    assert limiter.retry_after("a") is None


# -- where the counts live -------------------------------------------------------------------
def _fail_in_another_process(path: str, window: int, times: int) -> None:
    counters = FileCounters(Path(path))
    for _ in range(times):
        counters.add("authfail", "addr", window, WINDOW)


def test_the_instance_file_is_shared_by_processes(tmp_path):
    """Two workers of one instance: separate processes, one count."""
    path, now = tmp_path / "limits.db", _window_now()
    here = FileCounters(path)
    here.add("authfail", "addr", now, WINDOW)
    context = multiprocessing.get_context("spawn")
    workers = [
        context.Process(target=_fail_in_another_process, args=(str(path), now, 3)) for _ in range(2)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)
        assert worker.exitcode == 0
    assert here.get("authfail", "addr", now) == (7, 0)
    assert here.add("authfail", "addr", now + 1, WINDOW) == (1, 7)  # the next window sees it
    here.clear("authfail", "addr", now + 1)
    assert here.get("authfail", "addr", now + 1) == (0, 0)


def test_workers_opening_a_new_instance_file_at_once_both_count_in_it(tmp_path):
    """The first failures after a start reach two workers at the same moment; each must
    count in the file, not in its own memory. (Unhandled, one round in ten lost a count.)"""
    now = _window_now()
    for round_ in range(100):
        first, second = (FileCounters(tmp_path / f"limits-{round_}.db") for _ in range(2))
        fail = ("authfail", "addr", now, WINDOW)
        outcomes = at_once(
            functools.partial(first.add, *fail), functools.partial(second.add, *fail)
        )
        assert sorted(outcomes) == [(1, 0), (2, 0)], outcomes


def test_the_instance_file_is_private(tmp_path):
    now = _window_now()
    path = tmp_path / "instance" / "limits.db"
    FileCounters(path).add("authfail", "addr", now, WINDOW)
    assert path.stat().st_mode & 0o777 == 0o600


def test_an_unreachable_redis_falls_back_to_the_instance_file(tmp_path):
    now = _window_now()
    dead = RedisCounters("redis://127.0.0.1:1/0")
    first = Fallback(dead, Fallback(FileCounters(tmp_path / "limits.db"), MemoryCounters()))
    second = Fallback(dead, Fallback(FileCounters(tmp_path / "limits.db"), MemoryCounters()))
    first.add("authfail", "addr", now, WINDOW)
    assert second.add("authfail", "addr", now, WINDOW) == (2, 0)


def test_redis_is_shared_by_instances(redis_url, address_prefix):
    now = _window_now()
    key = f"{address_prefix}-addr"
    first, second = RedisCounters(redis_url), RedisCounters(redis_url)
    first.add("authfail", key, now, WINDOW)
    assert second.add("authfail", key, now, WINDOW) == (2, 0)
    assert second.add("authfail", key, now + 1, WINDOW) == (1, 2)

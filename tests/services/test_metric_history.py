"""The dashboard's history: per-hour numbers from the counters each instance recorded, summed
over instances, across restarts, never counting anything twice."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from app.services import metric_history
from app.services.metric_history import KEEP, _slot, _until_next_slot

NOW = datetime(2026, 12, 2, 15, 30)
RUN = datetime(2026, 12, 1, 0, 0)  # an instance started long before the window


def at(hour: int, minute: int = 0, day: int = 2) -> datetime:
    return datetime(2026, 12, day, hour, minute)


def counts(tokens: float, **failures: float) -> dict[str, float]:
    return {"tokens": tokens} | {f"failures.{k}": v for k, v in failures.items()}


def record(app, instance: str, started: datetime, moment: datetime, values: dict) -> bool:
    with app.app_context():
        return metric_history.record(instance, started, moment, values)


def hours(app, now: datetime = NOW) -> dict[int, tuple[int, dict[str, int]]]:
    with app.app_context():
        found = metric_history.hourly(24, now)
    assert len(found) == 24 and found[-1].start == datetime(2026, 12, 2, 15)
    return {h.start.hour: (h.tokens, {k: v for k, v in h.failures.items() if v}) for h in found}


def test_differences_between_samples_land_in_the_hour_they_happened(app):
    record(app, "a", RUN, at(13, 0), counts(100))  # a baseline: what came before is not shown
    record(app, "a", RUN, at(13, 30), counts(130, unknown_or_wrong=2))
    record(app, "a", RUN, at(14, 0), counts(150, unknown_or_wrong=2))  # up to 14:00: hour 13
    record(app, "a", RUN, at(15, 15), counts(190, unknown_or_wrong=5, malformed=1))
    found = hours(app)
    assert found[13] == (50, {"unknown_or_wrong": 2})
    assert found[14] == (0, {})
    assert found[15] == (40, {"unknown_or_wrong": 3, "malformed": 1})


def test_instances_are_summed_and_a_restart_counts_from_zero(app):
    record(app, "a", RUN, at(14, 0), counts(1000))
    record(app, "a", RUN, at(14, 30), counts(1010))
    restarted = at(14, 40)
    record(app, "a", restarted, at(14, 45), counts(4))  # the counters began again at 0
    record(app, "a", restarted, at(14, 50), counts(9))
    record(app, "b", at(14, 5), at(14, 10), counts(7))  # b started in the window
    record(app, "b", at(14, 5), at(14, 20), counts(12))
    assert hours(app)[14] == (10 + 4 + 5 + 7 + 5, {})


def test_nothing_older_than_the_window_and_a_partial_current_hour(app):
    record(app, "a", RUN, at(10, 0, day=1), counts(1))
    record(app, "a", RUN, at(11, 0, day=1), counts(50))  # yesterday, outside the 24 hours
    record(app, "a", RUN, at(15, 1), counts(60))
    found = hours(app)
    assert sum(tokens for tokens, _ in found.values()) == 0  # a baseline again: no history
    record(app, "a", RUN, at(15, 29), counts(63))
    assert hours(app)[15] == (3, {})


def test_a_slot_is_recorded_once(app):
    assert record(app, "a", RUN, at(15, 0), counts(1)) is True
    assert record(app, "a", RUN, at(15, 0), counts(2)) is False  # another worker was first
    assert record(app, "b", RUN, at(15, 0), counts(2)) is True


def test_old_samples_are_deleted_by_the_writer(app):
    record(app, "a", RUN, NOW - KEEP - timedelta(minutes=1), counts(1))
    record(app, "a", RUN, NOW, counts(2))
    with app.app_context():
        from sqlalchemy import func, select

        from app.extensions import db
        from app.models import MetricSample

        assert db.session.scalar(select(func.count()).select_from(MetricSample)) == 1


@pytest.mark.parametrize(
    ("now", "interval", "slot", "wait"),
    [
        (datetime(2026, 12, 2, 15, 30, 12, 500000), 60, datetime(2026, 12, 2, 15, 30), 47.5),
        (datetime(2026, 12, 2, 15, 30, 0), 60, datetime(2026, 12, 2, 15, 30), 60.0),
        (datetime(2026, 12, 2, 15, 59, 59), 3600, datetime(2026, 12, 2, 15, 0), 1.0),
    ],
)
def test_slots_are_aligned_to_the_interval(now, interval, slot, wait):
    assert _slot(now, interval) == slot
    assert _until_next_slot(now, interval) == pytest.approx(wait)

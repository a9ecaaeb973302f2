"""Naive UTC timestamps: ``utcnow`` and ``epoch_seconds`` (token ``exp``, the revocation feed)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.models.types import epoch_seconds, utcnow


def test_utcnow_is_the_current_instant_in_naive_utc():
    before = datetime.now(UTC).replace(tzinfo=None)
    now = utcnow()
    after = datetime.now(UTC).replace(tzinfo=None)
    assert now.tzinfo is None
    # time.time() is rounded to the microsecond, datetime.now truncated: 1 µs either way
    assert before - timedelta(microseconds=1) <= now <= after + timedelta(microseconds=1)


@pytest.mark.parametrize(
    "moment",
    [
        datetime(1970, 1, 1),
        datetime(2026, 12, 4, 7, 1, 2, 999_999),  # never rounded up to the next second
        datetime(2038, 1, 19, 3, 14, 8),  # past 32-bit time
        datetime(9999, 12, 31, 23, 59, 59),
    ],
)
def test_epoch_seconds_is_the_whole_seconds_since_1970(moment):
    assert epoch_seconds(moment) == int(moment.replace(tzinfo=UTC).timestamp())
    assert isinstance(epoch_seconds(moment), int)

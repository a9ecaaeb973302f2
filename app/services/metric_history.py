"""The dashboard's history: each served instance's counters, recorded every minute.

``/metrics`` counts since the instance started, in memory-mapped files on its
host; Prometheus keeps the history when one scrapes it. The console's dashboard
wants tokens and failed authentications per hour over the last day, across every
instance sharing the database, without Prometheus. So one worker per instance
(whichever holds the lock file in the instance's metrics directory) reads the
instance's totals (the very counters ``/metrics`` shows) every
``GATEHOUSE_METRICS_SAMPLE_SECONDS`` and writes one row. Nothing is written per
request, and there is no second, hand-kept tally.

Per-hour numbers are differences between consecutive rows of an instance (a
restart starts its counters from zero, with a new ``started_at``), summed over
instances. The writer deletes rows older than ``KEEP``.
"""

from __future__ import annotations

import fcntl
import logging
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from flask import Flask
from sqlalchemy import delete, select

from app import metrics
from app.errors import Conflict
from app.extensions import db
from app.models import MetricSample
from app.models.types import utcnow
from app.services.transaction import transaction

log = logging.getLogger("app.metrics")
KEEP = timedelta(days=3)
_LOCK_FILE = "sampler.lock"
HOUR = timedelta(hours=1)
_EPOCH = datetime(1970, 1, 1)


@dataclass
class Hour:
    """What happened in one hour (UTC) on every instance."""

    start: datetime
    tokens: int = 0
    failures: dict[str, int] = field(default_factory=dict)
    #: whether any instance recorded its counters in this hour
    sampled: bool = False

    @property
    def failed(self) -> int:
        return sum(self.failures.values())


def record(instance: str, started_at: datetime, at: datetime, counts: dict[str, float]) -> bool:
    """Write the instance's totals at slot ``at``; False if that slot is already written."""
    try:
        with transaction():
            db.session.add(
                MetricSample(instance=instance, started_at=started_at, at=at, counts=counts)
            )
            db.session.flush()
            db.session.execute(delete(MetricSample).where(MetricSample.at < at - KEEP))
    except Conflict:
        return False
    return True


def _floor_hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def hourly(hours: int = 24, now: datetime | None = None) -> list[Hour]:
    """The last ``hours`` hours, oldest first, the current (partial) hour last."""
    now = now or utcnow()
    end = _floor_hour(now) + HOUR
    start = end - hours * HOUR
    since = start - 2 * HOUR  # rows before ``start`` are baselines only
    buckets = {start + i * HOUR: Hour(start + i * HOUR) for i in range(hours)}
    totals: dict[datetime, Counter[str]] = {moment: Counter() for moment in buckets}
    seen: set[datetime] = set()
    previous: dict[str, MetricSample] = {}
    rows = db.session.scalars(
        select(MetricSample)
        .where(MetricSample.at >= since)
        .order_by(MetricSample.instance, MetricSample.at)
    )
    for row in rows:
        # a row at 10:00 holds what happened up to 10:00: the hour from 9:00
        hour = _floor_hour(row.at - timedelta(microseconds=1))
        seen.add(hour)
        before = previous.get(row.instance)
        previous[row.instance] = row
        if before is not None and before.started_at == row.started_at:
            added = {k: v - before.counts.get(k, 0) for k, v in row.counts.items()}
        elif before is None and row.started_at < since:
            continue  # the first row seen of a run that began earlier: a baseline
        else:  # the first row of a run: everything it counted since it started
            added = dict(row.counts)
        if hour in totals:
            totals[hour].update({k: max(0.0, v) for k, v in added.items()})
    db.session.rollback()  # end the read
    for moment, counted in totals.items():
        bucket = buckets[moment]
        bucket.sampled = moment in seen
        bucket.tokens = round(counted.get("tokens", 0))
        bucket.failures = {
            reason: round(counted.get(f"failures.{reason}", 0))
            for reason in metrics.FAILURE_REASONS
        }
    return list(buckets.values())


# -- the sampler: one thread in each served worker, one of them writing -----------
def start_sampler(app: Flask, stop: threading.Event | None = None) -> threading.Thread | None:
    """In a server's worker process: start recording the instance's counters.

    Every worker of the instance starts one; the one holding the lock file writes and
    the others wait for the lock (taken over when its holder exits). Returns None when
    this process is not one of a server's workers, or ``GATEHOUSE_METRICS_SAMPLE_SECONDS``
    is 0.
    """
    directory = metrics.shared_directory()
    identity = metrics.instance()
    interval = app.extensions["gatehouse"].settings.metrics_sample_seconds
    if directory is None or identity is None or interval == 0:
        return None
    thread = threading.Thread(
        target=_run,
        args=(app, directory, identity, interval, stop or threading.Event()),
        name="gatehouse-metrics-sampler",
        daemon=True,
    )
    thread.start()
    return thread


def _run(
    app: Flask,
    directory: Path,
    identity: tuple[str, datetime],
    interval: int,
    stop: threading.Event,
) -> None:
    with (directory / _LOCK_FILE).open("a") as lock:
        while not stop.is_set():
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                stop.wait(interval)  # another worker samples; take over if it exits
        while not stop.is_set():
            stop.wait(_until_next_slot(utcnow(), interval))
            if not stop.is_set():
                _sample(app, identity, interval)


def _slot(now: datetime, interval: int) -> datetime:
    """The start of the ``interval``-second slot holding ``now`` (naive UTC)."""
    seconds = (now - _EPOCH).total_seconds()
    return _EPOCH + timedelta(seconds=seconds // interval * interval)


def _until_next_slot(now: datetime, interval: int) -> float:
    return max(0.0, (_slot(now, interval) + timedelta(seconds=interval) - now).total_seconds())


def _sample(app: Flask, identity: tuple[str, datetime], interval: int) -> None:
    """One row for the slot that just began; skipped if the slot is already over (the rows
    of an instance are then in the order their counters were read)."""
    with app.app_context():
        try:
            now = utcnow()
            slot = _slot(now, interval)
            counts = metrics.totals()
            if utcnow() < slot + timedelta(seconds=interval):
                record(identity[0], identity[1], slot, counts)
        except Exception:  # noqa: BLE001 - the database may be down: try at the next slot
            log.warning("could not record the metrics sample", exc_info=True)
        finally:
            db.session.remove()

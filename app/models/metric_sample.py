"""A served instance's counters at one moment: the history behind the dashboard's charts."""

from datetime import datetime

from sqlalchemy import JSON, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db


class MetricSample(db.Model):
    """The cumulative counters of ``instance`` (since ``started_at``) at the slot ``at``.

    The counters are the ones ``/metrics`` shows; one row per instance and slot (the
    unique key), written by one worker of the instance, never per request.
    """

    __tablename__ = "metric_samples"
    __table_args__ = (UniqueConstraint("instance", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: the host and listening address of the instance
    instance: Mapped[str] = mapped_column(String(200))
    #: when the instance started: its counters count from zero since then
    started_at: Mapped[datetime]
    at: Mapped[datetime] = mapped_column(index=True)
    #: ``{"tokens": n, "failures.<reason>": n, ...}``
    counts: Mapped[dict] = mapped_column(JSON, default=dict)

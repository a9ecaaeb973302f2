"""Column helpers shared by the models."""

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Naive UTC now: every timestamp is stored as naive UTC on SQLite and PostgreSQL alike."""
    return datetime.now(UTC).replace(tzinfo=None)

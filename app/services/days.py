"""Calendar days in UTC, and the one strict parser of ``YYYY-MM-DD`` input."""

from __future__ import annotations

import re
from datetime import date

from app.errors import InvalidInput
from app.models.types import utcnow

ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def today() -> date:
    """Today in UTC: expiry days and reminders count in UTC."""
    return utcnow().date()


def parse_day(value: str, field: str) -> date:
    """``YYYY-MM-DD`` and nothing else (``date.fromisoformat`` also takes ``20261202``)."""
    text = value.strip()
    try:
        if not ISO_DATE.match(text):
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(
            f"'{text}' is not a valid date (use YYYY-MM-DD)", {field: "invalid"}
        ) from None

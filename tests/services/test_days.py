"""Dates people type are ``YYYY-MM-DD`` everywhere: expiry and the audit log's filters."""

from __future__ import annotations

import pytest

from app.errors import InvalidInput
from app.services import audit
from app.services.actors import Actor
from app.services.days import parse_day


@pytest.mark.parametrize("text", ["20261202", "2026-W49-3", "2027-02-30", "2026-12-2", ""])
def test_only_full_iso_dates_are_days(text):
    with pytest.raises(InvalidInput, match="YYYY-MM-DD"):
        parse_day(text, "since")


def test_the_audit_log_filter_uses_the_same_strict_parser(app):
    with app.app_context(), pytest.raises(InvalidInput) as caught:
        audit.list_events(Actor.cli(), since="20261202")
    assert caught.value.fields == {"since": "invalid"}

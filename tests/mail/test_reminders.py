"""Expiry reminders: 7 days before and once expired, once per client and kind, ever.

The worker's clock is passed in (``now``), so a test walks through the calendar.
Clients expire ``DAYS`` days from the real today; ``day(n)`` is a moment on day n.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from flask import Flask

from app.mail.worker import run_once
from app.models.outbox import REMINDER_KINDS
from app.services import outbox
from tests.mail.helpers import create_as, later, run_together, today
from tests.mail.helpers import outbox as rows

ADMIN, REP = "admin@example.com", "rep@example.com"
DAYS = 10


def day(offset: int, hour: int = 9) -> datetime:
    """A moment (UTC) ``offset`` days from today."""
    return datetime.combine(today() + timedelta(days=offset), time(hour))


def reminders(app: Flask) -> list[tuple[str, str]]:
    return [(m["recipient"], m["kind"]) for m in rows(app) if m["kind"] in REMINDER_KINDS]


def queue(app: Flask, now: datetime) -> int:
    with app.app_context():
        return outbox.queue_expiry_reminders(now)


def test_reminders_on_the_right_days_and_never_twice(app, factory, smtp):
    factory.user(ADMIN, role="admin")
    factory.user(REP)
    client_id, _ = create_as(app, ADMIN, REP, name="Payroll sync", days=DAYS)

    for offset in range(0, DAYS - 7):  # up to 8 days before: nothing
        assert queue(app, day(offset)) == 0
    assert queue(app, day(DAYS - 7, hour=0)) == 1  # midnight UTC, 7 days before
    for hour in (0, 12, 23):  # the same day again, many times
        assert queue(app, day(DAYS - 7, hour)) == 0
    for offset in range(DAYS - 6, DAYS + 1):  # up to the last valid day: nothing new
        assert queue(app, day(offset)) == 0
    assert reminders(app) == [(REP, "expires_in_7_days"), (ADMIN, "expires_in_7_days")]

    assert queue(app, day(DAYS + 1, hour=0)) == 1  # expired at the end of its last day
    for offset in range(DAYS + 1, DAYS + 30):
        assert queue(app, day(offset, hour=12)) == 0
    assert sorted(reminders(app)) == sorted(
        [(who, kind) for who in (REP, ADMIN) for kind in ("expires_in_7_days", "expired")]
    )

    with app.app_context():
        counts = run_once(day(DAYS + 1))
    assert counts["sent"] == 6  # 2 creation + 2 * 2 reminders
    subjects = sorted(r.email["Subject"] for r in smtp.inbox.to(REP))
    expiry = (today() + timedelta(days=DAYS)).isoformat()
    assert subjects == [
        "Gatehouse: token 'Payroll sync' created",
        f"Gatehouse: token 'Payroll sync' expired ({expiry})",
        f"Gatehouse: token 'Payroll sync' expires in 7 days ({expiry})",
    ]
    soon = next(r for r in smtp.inbox.to(REP) if "7 days" in r.email["Subject"])
    assert client_id in soon.text and expiry in soon.text and "Job API" in soon.text
    assert f"/tokens/{client_id}" in soon.html


def test_the_worker_queues_reminders_itself(app, factory, smtp):
    factory.user(REP)
    factory.client(owner=REP, name="Soon", expires_on=today() + timedelta(days=7))
    with app.app_context():
        # the clock must not run behind the creation time, or the creation mail is not due
        first = run_once(later(seconds=1))
        again = run_once(later(seconds=2))
    assert (first["reminders"], first["sent"]) == (1, 2)
    assert (again["reminders"], again["sent"]) == (0, 0)
    assert len(smtp.received) == 2


def test_revoked_clients_get_no_reminders(app, factory, gh):
    factory.user(REP)
    revoked = factory.client(owner=REP, name="Gone", expires_on=today() + timedelta(days=7))
    assert gh("clients", "revoke", revoked.client_id).exit_code == 0
    assert queue(app, day(0)) == 0
    assert queue(app, day(8)) == 0
    assert reminders(app) == []


def test_a_late_worker_catches_up_expired_for_a_week_only(app, factory):
    factory.user(REP)
    factory.client(owner=REP, name="A", expires_on=today() + timedelta(days=1))
    factory.client(owner=REP, name="B", expires_on=today() + timedelta(days=2))
    # first run 8 days after A's last day, 7 after B's: only B is still worth a mail
    assert queue(app, day(1 + 8)) == 1
    assert [m["subject"] for m in rows(app) if m["kind"] == "expired"] == [
        f"Gatehouse: token 'B' expired ({(today() + timedelta(days=2)).isoformat()})"
    ]


def test_a_duplicate_reminder_is_refused_and_the_next_one_still_queued(app, factory):
    factory.user(REP)
    first = factory.client(owner=REP, name="First")
    second = factory.client(owner=REP, name="Second")
    with app.app_context():
        assert outbox.queue_reminder(first.client_id, "expired", day(40)) is True
        # the unique (client, kind) key refuses the same reminder, even without a check first
        assert outbox.queue_reminder(first.client_id, "expired", day(41)) is False
        assert outbox.queue_reminder(second.client_id, "expired", day(41)) is True
    assert [m["client_id"] for m in rows(app) if m["kind"] == "expired"] == [
        first.client_id,
        second.client_id,
    ]


def test_two_workers_queue_each_reminder_once(app, make_app, factory):
    factory.user(REP)
    for index in range(12):
        factory.client(owner=REP, name=f"Token {index}", expires_on=today() + timedelta(days=7))
    apps = [make_app() for _ in range(2)]
    results = run_together(
        apps, lambda: sum(outbox.queue_expiry_reminders(day(0, h)) for h in (1, 2, 3))
    )
    assert all(isinstance(r, int) for r in results), results
    assert sum(results) == 12
    soon = [m for m in rows(app) if m["kind"] == "expires_in_7_days"]
    assert len(soon) == 12
    assert len({m["client_id"] for m in soon}) == 12


def subjects(app: Flask, kind: str) -> list[str]:
    return [m["subject"] for m in rows(app) if m["kind"] == kind and m["recipient"] == REP]


def test_a_missed_7_day_reminder_is_caught_up_once_saying_the_days_left(app, factory):
    factory.user(REP)
    factory.client(owner=REP, name="Late", expires_on=today() + timedelta(days=DAYS))
    expiry = (today() + timedelta(days=DAYS)).isoformat()
    # no worker ran on the day 7 days before, nor on the next two: the first run is 4 days before
    assert queue(app, day(DAYS - 4)) == 1
    for offset in range(DAYS - 4, DAYS + 1):
        assert queue(app, day(offset, hour=23)) == 0  # never twice
    assert subjects(app, "expires_in_7_days") == [
        f"Gatehouse: token 'Late' expires in 4 days ({expiry})"
    ]
    assert queue(app, day(DAYS + 1)) == 1  # and the "expired" one still comes
    assert subjects(app, "expired") == [f"Gatehouse: token 'Late' expired ({expiry})"]


def test_a_worker_back_on_the_last_day_says_today_and_on_the_day_before_tomorrow(app, factory):
    factory.user(REP)
    factory.client(owner=REP, name="Today", expires_on=today() + timedelta(days=DAYS))
    factory.client(owner=REP, name="Tomorrow", expires_on=today() + timedelta(days=DAYS + 1))
    assert queue(app, day(DAYS)) == 2
    last, next_day = today() + timedelta(days=DAYS), today() + timedelta(days=DAYS + 1)
    assert sorted(subjects(app, "expires_in_7_days")) == [
        f"Gatehouse: token 'Today' expires today ({last})",
        f"Gatehouse: token 'Tomorrow' expires tomorrow ({next_day})",
    ]


def test_a_worker_back_after_the_expiry_sends_only_the_expired_reminder(app, factory):
    factory.user(REP)
    factory.client(owner=REP, name="Gone", expires_on=today() + timedelta(days=DAYS))
    assert queue(app, day(DAYS + 2)) == 1
    assert [m["kind"] for m in rows(app) if m["kind"] in REMINDER_KINDS] == ["expired"]


def test_a_client_created_within_its_last_week_gets_no_early_reminder(app, factory):
    """It was told its expiry when it was created; "expires in 7 days" would be false."""
    factory.user(REP)
    factory.client(owner=REP, name="Short", expires_on=today() + timedelta(days=3))
    for offset in range(0, 4):
        assert queue(app, day(offset, hour=23)) == 0
    assert subjects(app, "expires_in_7_days") == []

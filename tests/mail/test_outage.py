"""An SMTP outage delays mail, never loses it."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import Flask

from app.mail.worker import run_once
from app.services import client_queries
from app.services.actors import Actor
from app.services.outbox_delivery import BACKOFF_CAP_SECONDS, backoff
from tests.mail.conftest import SmtpServer
from tests.mail.helpers import later, outbox

REP = "rep@example.com"


def parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.removesuffix("Z"))


def worker_pass(app: Flask, now: datetime) -> dict[str, int]:
    with app.app_context():
        return run_once(now)


def test_mail_waits_out_an_outage_and_is_delivered_once(app, factory, smtp: SmtpServer, gh):
    factory.user(REP)
    smtp.stop()
    issued = factory.client(owner=REP, name="During the outage")  # the change succeeds
    assert gh("clients", "revoke", issued.client_id).exit_code == 0

    start = later(seconds=1)
    assert worker_pass(app, start) == {"reminders": 0, "sent": 0, "retrying": 2, "failed": 0}
    for message in outbox(app):
        assert message["status"] == "queued"
        assert message["attempts"] == 1
        assert f"127.0.0.1:{smtp.port} unavailable" in message["last_error"]
        assert parse(message["next_attempt_at"]) == (start + timedelta(seconds=30)).replace(
            microsecond=0
        )

    # not due yet: nothing is tried
    assert worker_pass(app, start + timedelta(seconds=20))["retrying"] == 0
    # due, still down: the second attempt doubles the wait
    second = start + timedelta(seconds=31)
    assert worker_pass(app, second)["retrying"] == 2
    assert [m["attempts"] for m in outbox(app)] == [2, 2]

    smtp.start()
    assert worker_pass(app, second + timedelta(seconds=59)) == {
        "reminders": 0,
        "sent": 0,
        "retrying": 0,
        "failed": 0,
    }
    assert smtp.received == []
    assert worker_pass(app, second + timedelta(seconds=61))["sent"] == 2
    for offset in (62, 3600, 86400):
        assert worker_pass(app, second + timedelta(seconds=offset))["sent"] == 0

    assert sorted(r.email["Subject"] for r in smtp.received) == [
        "Gatehouse: token 'During the outage' created",
        "Gatehouse: token 'During the outage' revoked",
    ]
    sent = outbox(app)
    assert [(m["status"], m["attempts"]) for m in sent] == [("sent", 3), ("sent", 3)]
    assert all("unavailable" in m["last_error"] for m in sent)  # kept as history


def test_backoff_doubles_and_is_capped():
    assert [backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert backoff(8).total_seconds() == BACKOFF_CAP_SECONDS
    assert backoff(1000).total_seconds() == BACKOFF_CAP_SECONDS


def test_a_temporary_refusal_is_retried(app, factory, smtp: SmtpServer):
    factory.user(REP)
    factory.client(owner=REP)
    smtp.inbox.data_reply = "451 4.3.0 Mailbox busy, try later"
    assert worker_pass(app, later(seconds=1))["retrying"] == 1
    (message,) = outbox(app)
    assert message["status"] == "queued"
    assert "451 4.3.0 Mailbox busy" in message["last_error"]

    smtp.inbox.data_reply = None
    assert worker_pass(app, later(seconds=40))["sent"] == 1
    assert len(smtp.received) == 1


def test_a_permanent_refusal_fails_and_can_be_retried(app, factory, smtp: SmtpServer, gh):
    factory.user(REP)
    factory.client(owner=REP)
    smtp.inbox.rcpt_reply = "550 5.1.1 No such user here"
    assert worker_pass(app, later(seconds=1))["failed"] == 1
    (message,) = outbox(app, status="failed")
    assert "550 5.1.1 No such user here" in message["last_error"]
    # given up: later passes leave it alone
    assert worker_pass(app, later(days=1))["failed"] == 0

    smtp.inbox.rcpt_reply = None
    result = gh("mail", "retry", message["id"])
    assert result.exit_code == 0, result.stderr
    assert worker_pass(app, later(seconds=2))["sent"] == 1
    assert len(smtp.received) == 1
    assert outbox(app)[0]["status"] == "sent"


def test_the_change_commits_even_with_no_smtp_at_all(app, factory, smtp: SmtpServer):
    factory.user(REP)
    smtp.stop()
    creds = factory.client(owner=REP, name="Still created")
    with app.app_context():
        client = client_queries.find_client(Actor.cli(), creds.client_id)
        assert client.name == "Still created"
    assert [m["status"] for m in outbox(app)] == ["queued"]

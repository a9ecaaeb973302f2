"""A worker that dies mid-send: the message is sent again (at least once), and the repeat is
harmless (the same ``Message-ID``) and visible (``gatehouse mail list`` shows the attempts)."""

from __future__ import annotations

from datetime import timedelta
from email.message import EmailMessage

import pytest

from app.mail.transport import transport_for
from app.mail.worker import run_once
from app.services.outbox_delivery import LEASE
from app.services.runtime import settings
from tests.mail.helpers import as_json, later, ok, outbox

REP = "rep@example.com"


class DiesAfterTheServerAccepts:
    """The real SMTP transport, but the worker is killed right after the server said 250:
    nothing after the send runs (as with SIGKILL), so the delivery is never recorded."""

    def __init__(self) -> None:
        self.inner = transport_for(settings())
        self.via = self.inner.via
        self.label = self.inner.label

    def __enter__(self) -> DiesAfterTheServerAccepts:
        self.inner.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.inner.__exit__(None, None, None)

    def send(self, message: EmailMessage, name: str) -> None:
        self.inner.send(message, name)
        raise SystemExit("killed")


def test_a_send_interrupted_after_delivery_is_repeated_with_the_same_message_id(
    app, factory, smtp, gh
):
    factory.user(REP)
    factory.client(owner=REP, name="Twice")  # one creation email, to the owner
    start = later(seconds=1)
    with app.app_context(), pytest.raises(SystemExit):
        run_once(start, transport=DiesAfterTheServerAccepts())
    (message,) = outbox(app)
    assert message["status"] == "queued" and message["attempts"] == 1
    assert len(smtp.received) == 1

    with app.app_context():  # before the dead worker's claim lapses, nobody else sends
        assert run_once(start + LEASE / 2)["sent"] == 0
        assert run_once(start + LEASE + timedelta(seconds=1))["sent"] == 1

    first, second = (received.email for received in smtp.received)
    assert first["Message-ID"] == second["Message-ID"]  # mail clients fold the copies
    assert first["Subject"] == second["Subject"] == "Gatehouse: token 'Twice' created"

    (message,) = as_json(gh("mail", "list", "--json"))
    assert (message["status"], message["attempts"]) == ("sent", 2)
    assert "attempt 1 was interrupted" in message["last_error"]
    assert "same Message-ID" in message["last_error"]
    text = ok(gh("mail", "list")).stdout.splitlines()
    assert text[0].split("\t") == ["ID", "STATUS", "ATTEMPTS", "RECIPIENT", "SUBJECT"]
    assert text[1].split("\t")[1:3] == ["sent", "2"]
    assert "interrupted" in text[2]


def test_an_uneventful_delivery_counts_one_attempt_and_says_how_it_left(app, factory, smtp, gh):
    factory.user(REP)
    factory.client(owner=REP)
    with app.app_context():
        assert run_once(later(seconds=1))["sent"] == 1
    (message,) = as_json(gh("mail", "list", "--json"))
    assert (message["attempts"], message["delivered_via"], message["last_error"]) == (
        1,
        "smtp",
        None,
    )
    assert len(ok(gh("mail", "list")).stdout.splitlines()) == 2  # the header and one line

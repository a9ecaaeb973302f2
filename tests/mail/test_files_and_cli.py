"""Without ``GATEHOUSE_SMTP_URL``: readable ``.eml`` files. And ``gatehouse mail list/retry``."""

from __future__ import annotations

from email import message_from_bytes, policy
from pathlib import Path

import pytest

from tests.mail.helpers import as_json, create_as, outbox

ADMIN, REP = "admin@example.com", "rep@example.com"


class TestFileTransport:
    @pytest.fixture
    def config(self, config: dict[str, object]) -> dict[str, object]:
        """No SMTP server: the worker writes files."""
        return {k: v for k, v in config.items() if k != "GATEHOUSE_SMTP_URL"}

    def test_eml_files_in_the_instance_outbox(self, app, config, factory, gh):
        factory.user(ADMIN, role="admin")
        factory.user(REP)
        client_id, secret = create_as(app, ADMIN, REP, name="Payroll sync")

        assert as_json(gh("worker", "--once", "--json"))["sent"] == 2
        assert as_json(gh("worker", "--once", "--json"))["sent"] == 0

        folder = Path(str(config["GATEHOUSE_INSTANCE_DIR"])) / "outbox"
        files = sorted(folder.iterdir())
        assert [f.suffix for f in files] == [".eml", ".eml"]
        recipients = set()
        for path in files:
            raw = path.read_bytes()
            assert secret.encode() not in raw
            email = message_from_bytes(raw, policy=policy.default)
            recipients.add(email["To"])
            assert email["Subject"] == "Gatehouse: token 'Payroll sync' created"
            assert email["From"] == "gatehouse@localhost"
            text = email.get_body(("plain",)).get_content()
            assert client_id in text and "Job API" in text
            assert email.get_body(("html",)) is not None
        assert recipients == {ADMIN, REP}
        assert {m["status"] for m in outbox(app)} == {"sent"}


def test_mail_list_json_and_status_filter(app, factory, smtp, gh):
    factory.user(REP)
    factory.client(owner=REP, name="First")
    smtp.stop()
    factory.client(owner=REP, name="Second")
    everything = as_json(gh("mail", "list", "--json"))
    assert [m["subject"] for m in everything] == [
        "Gatehouse: token 'Second' created",
        "Gatehouse: token 'First' created",
    ]
    assert set(everything[0]) == {
        "id",
        "kind",
        "client_id",
        "recipient",
        "subject",
        "status",
        "attempts",
        "delivered_via",
        "next_attempt_at",
        "last_error",
        "created_at",
        "sent_at",
    }
    assert {m["status"] for m in everything} == {"queued"}
    assert as_json(gh("mail", "list", "--status", "sent", "--json")) == []

    smtp.start()
    assert as_json(gh("worker", "--once", "--json"))["sent"] == 2
    sent = as_json(gh("mail", "list", "--status", "sent", "--json"))
    assert len(sent) == 2 and all(m["sent_at"] and m["attempts"] == 1 for m in sent)
    assert sent[0]["recipient"] == REP
    text = gh("mail", "list").stdout
    assert "Gatehouse: token 'First' created" in text and "sent" in text


def test_mail_list_rejects_an_unknown_status(gh):
    result = gh("mail", "list", "--status", "lost")
    assert result.exit_code != 0
    assert "lost" in result.stderr


def test_mail_retry(app, factory, smtp, gh):
    factory.user(REP)
    factory.client(owner=REP)
    smtp.inbox.data_reply = "554 5.6.0 Message rejected"
    assert as_json(gh("worker", "--once", "--json"))["failed"] == 1
    (failed,) = as_json(gh("mail", "list", "--status", "failed", "--json"))
    assert "554" in failed["last_error"]

    smtp.inbox.data_reply = None
    retried = as_json(gh("mail", "retry", failed["id"], "--json"))
    assert (retried["id"], retried["status"], retried["attempts"]) == (failed["id"], "queued", 0)
    assert as_json(gh("worker", "--once", "--json"))["sent"] == 1
    assert len(smtp.received) == 1

    again = gh("mail", "retry", failed["id"])
    assert again.exit_code == 1
    assert again.stderr.startswith("Error: ") and "already sent" in again.stderr
    missing = gh("mail", "retry", "999999")
    assert missing.exit_code == 1 and "no message 999999" in missing.stderr

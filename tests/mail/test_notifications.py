"""Creation, revocation and rotation emails, delivered over real SMTP.

Every message goes through ``gatehouse worker --once`` to an aiosmtpd server.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.mail.worker import run_once
from app.services import clients, users
from app.services.actors import Actor
from tests.conftest import ISSUER
from tests.helpers import ADMIN
from tests.helpers import MEMBER as REP
from tests.mail.helpers import as_json, create_as, outbox, today


def test_creation_mail_reaches_owner_and_creator_without_the_secret(app, people, smtp, gh):
    client_id, secret = create_as(
        app, ADMIN, REP, name="Payroll sync", scopes=["jobs", "candidates"]
    )

    counts = as_json(gh("worker", "--once", "--json"))

    assert counts == {"reminders": 0, "sent": 2, "retrying": 0, "failed": 0}
    assert sorted(r.rcpt_tos[0] for r in smtp.received) == [ADMIN, REP]
    for received in smtp.received:
        assert secret.encode() not in received.raw
        assert secret[4:20].encode() not in received.raw  # not even a piece of it
        assert secret not in received.text and secret not in received.html  # nor once decoded
        email = received.email
        assert email["Subject"] == "Gatehouse: token 'Payroll sync' created"
        assert email["From"] == "gatehouse@localhost"
        assert email["Message-ID"] and email["Date"]
        for body in (received.text, received.html):
            assert "Payroll sync" in body
            assert client_id in body
            assert REP in body and "Rep" in body
            assert "Job API" in body and "Candidate API" in body
            assert f"{ISSUER}/tokens/{client_id}" in body
    (owner_mail,) = smtp.inbox.to(REP)
    (creator_mail,) = smtp.inbox.to(ADMIN)
    assert f"generated for you by {ADMIN}" in owner_mail.text
    assert "You generated a new system access token for Rep" in creator_mail.text
    assert [m["status"] for m in outbox(app)] == ["sent", "sent"]


def test_expiry_date_is_written_yyyy_mm_dd(app, people, smtp):
    create_as(app, ADMIN, REP, days=45)
    with app.app_context():
        run_once()
    expected = (today() + timedelta(days=45)).isoformat()
    assert all(expected in r.text and expected in r.html for r in smtp.received)
    assert len(smtp.received) == 2


def test_a_client_made_by_its_owner_or_the_cli_mails_the_owner_only(app, people, factory, smtp, gh):
    create_as(app, REP, REP, name="Own token")
    factory.client(owner=REP, name="From the shell")

    assert as_json(gh("worker", "--once", "--json"))["sent"] == 2
    assert [r.rcpt_tos for r in smtp.received] == [(REP,), (REP,)]
    assert {r.email["Subject"] for r in smtp.received} == {
        "Gatehouse: token 'Own token' created",
        "Gatehouse: token 'From the shell' created",
    }


def test_revocation_and_rotation_mails(app, people, smtp, gh):
    client_id, first_secret = create_as(app, ADMIN, REP, name="Reporting job")
    with app.app_context():
        admin = Actor.person(users.get_by_email(ADMIN))
        rotated = clients.rotate_secret(admin, client_id, grace_seconds=60)
        clients.revoke_client(Actor.cli(), client_id)
        clients.revoke_client(Actor.cli(), client_id)  # already revoked: no second mail

    assert as_json(gh("worker", "--once", "--json"))["sent"] == 6

    subjects = sorted((r.rcpt_tos[0], r.email["Subject"]) for r in smtp.received)
    assert subjects == sorted(
        (who, f"Gatehouse: token 'Reporting job' {what}")
        for who in (ADMIN, REP)
        for what in ("created", "secret rotated", "revoked")
    )
    for received in smtp.received:
        assert first_secret.encode() not in received.raw
        assert rotated.secret.encode() not in received.raw
        assert client_id in received.text
    revoked = [r for r in smtp.inbox.to(REP) if "revoked" in r.email["Subject"]][0]
    assert "revoked by cli" in revoked.text
    rotation = [r for r in smtp.inbox.to(REP) if "rotated" in r.email["Subject"]][0]
    assert f"rotated by {ADMIN}" in rotation.text


def test_a_failed_change_queues_no_mail(app, people, smtp):
    create_as(app, ADMIN, REP, name="Same name")
    with pytest.raises(Exception, match="already has an active token"):
        create_as(app, ADMIN, REP, name="same NAME")
    assert len(outbox(app)) == 2  # the first creation's two messages only


def test_html_escapes_what_users_typed(app, people, smtp):
    create_as(app, ADMIN, REP, name="<script>alert(1)</script> & co")
    with app.app_context():
        run_once()
    received = smtp.inbox.to(REP)[0]
    assert "<script>" not in received.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in received.html
    assert "<script>alert(1)</script> & co" in received.text
    assert received.email["Subject"] == "Gatehouse: token '<script>alert(1)</script> & co' created"


def test_non_ascii_names_survive_the_trip(app, people, smtp):
    create_as(app, ADMIN, REP, name="Paie – équipe ✓")
    with app.app_context():
        assert run_once()["sent"] == 2
    received = smtp.inbox.to(REP)[0]
    assert received.email["Subject"] == "Gatehouse: token 'Paie – équipe ✓' created"
    assert "Paie – équipe ✓" in received.text and "Paie – équipe ✓" in received.html

"""``POST /credentials/revoke``: a reported secret revokes its client at once; the answer is
always ``202 {"received": N}``; bad bodies are 400 (413 over 64 KiB); reports are
rate-limited per address. (End to end with a live server and the email: tests/live.)"""

from __future__ import annotations

import json

import pytest
from flask import Flask
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, Client, OutboxMessage
from app.security.secrets import generate_secret
from app.services import clients
from app.services.actors import Actor
from tests.conftest import Credentials, Factory
from tests.oauth.helpers import request_token

REPORTER = "203.0.113.99"


def report(http, body, address: str = REPORTER, **kwargs):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    kwargs.setdefault("content_type", "application/json")
    return http.post(
        "/credentials/revoke", data=data, environ_base={"REMOTE_ADDR": address}, **kwargs
    )


def client_row(app: Flask, client_id: str) -> Client:
    with app.app_context():
        db.session.expire_all()
        return db.session.scalars(select(Client).where(Client.client_id == client_id)).one()


def test_a_reported_secret_is_dead_at_once(app, http, factory: Factory):
    creds = factory.client()
    bystander = factory.client()
    assert request_token(http, creds).status_code == 200
    answer = report(http, {"credentials": [creds.secret]})
    assert (answer.status_code, answer.json) == (202, {"received": 1})
    assert answer.headers["Cache-Control"] == "no-store"
    assert request_token(http, creds).status_code == 401
    assert request_token(http, bystander).status_code == 200
    revoked = client_row(app, creds.client_id)
    assert revoked.revoked_by == "leak-report"
    with app.app_context():
        entry = db.session.scalars(
            select(AuditEvent).where(
                AuditEvent.target == creds.client_id, AuditEvent.action == "client.revoke"
            )
        ).one()
        assert (entry.actor, entry.address) == ("leak-report", REPORTER)
        assert entry.details["reason"] == "secret reported as exposed"
        (mail,) = db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.client_id == creds.client_id)
            .where(OutboxMessage.kind != "created")
        )
        assert mail.subject.endswith("revoked: its secret was reported as exposed")
        assert creds.secret not in mail.text_body + mail.html_body + mail.subject


def test_the_answer_never_says_whether_anything_matched(app, http, factory: Factory):
    creds = factory.client()
    answers = [
        report(http, {"credentials": [generate_secret(), "not a secret", "gts_" + "x" * 49]}),
        report(http, {"credentials": [creds.secret, "not a secret", generate_secret()]}),
        report(http, {"credentials": [creds.secret, creds.secret, "again"]}),  # already revoked
    ]
    assert {(a.status_code, json.dumps(a.json)) for a in answers} == {(202, '{"received": 3}')}
    assert client_row(app, creds.client_id).revoked_at is not None


def test_a_previous_secret_counts_while_it_still_works(app, http, factory: Factory):
    in_grace, after_grace = factory.client(), factory.client()
    with app.app_context():
        clients.rotate_secret(Actor.cli(), in_grace.client_id, grace_seconds=3600)
        clients.rotate_secret(Actor.cli(), after_grace.client_id, grace_seconds=0)
    report(http, {"credentials": [in_grace.secret, after_grace.secret]})
    assert client_row(app, in_grace.client_id).revoked_at is not None
    assert client_row(app, after_grace.client_id).revoked_at is None  # that secret is dead already


def test_one_report_revokes_several_clients_and_mails_about_each(app, http, factory: Factory):
    many: list[Credentials] = [factory.client() for _ in range(3)]
    report(http, {"credentials": [creds.secret for creds in many]})
    for creds in many:
        assert client_row(app, creds.client_id).revoked_by == "leak-report"
    with app.app_context():
        kinds = db.session.scalars(
            select(OutboxMessage.kind).where(OutboxMessage.kind != "created")
        )
        assert list(kinds) == ["revoked_exposed"] * 3


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("not json", "application/json"),
        ('{"credentials": "gts_x"}', "application/json"),
        ('{"credentials": [1, 2]}', "application/json"),
        ('["gts_x"]', "application/json"),
        ('{"credentials": [], "extra": 1}', "application/json"),
        ('{"secrets": []}', "application/json"),
        (json.dumps({"credentials": ["x"] * 101}), "application/json"),
        (json.dumps({"credentials": ["x" * 1001]}), "application/json"),
        ("credentials=gts_x", "application/x-www-form-urlencoded"),
    ],
    ids=[
        "not JSON",
        "a string, not a list",
        "numbers",
        "a bare list",
        "an unknown member",
        "no credentials member",
        "101 strings",
        "a string over 1000 characters",
        "a form",
    ],
)
def test_a_malformed_report_is_400(http, body, content_type):
    answer = report(http, body, content_type=content_type)
    assert answer.status_code == 400
    assert answer.json["error"] == "invalid_request" and answer.json["error_description"]


def test_a_report_over_64_kib_is_413(http):
    body = json.dumps({"credentials": ["x" * 1000] * 70})
    assert report(http, body).status_code == 413


def test_reports_are_rate_limited_per_address(config, request):
    config["GATEHOUSE_AUTH_FAILURES_PER_MINUTE"] = "3"
    http = request.getfixturevalue("http")
    statuses = [report(http, {"credentials": []}).status_code for _ in range(5)]
    assert statuses == [202, 202, 202, 429, 429]
    limited = report(http, {"credentials": []})
    assert int(limited.headers["Retry-After"]) > 0
    assert report(http, {"credentials": []}, address="203.0.113.100").status_code == 202


def test_a_report_needs_no_csrf_token_nor_session(http):
    """A machine path: no cookie session is opened, so there is nothing to forge."""
    answer = report(http, {"credentials": []})
    assert answer.status_code == 202
    assert "Set-Cookie" not in answer.headers


def test_reports_from_one_ipv6_64_share_one_limit(config, request):
    """A reporter holding a /64 cannot step past the limit by changing addresses."""
    config["GATEHOUSE_AUTH_FAILURES_PER_MINUTE"] = "3"
    http = request.getfixturevalue("http")
    statuses = [
        report(http, {"credentials": []}, address=f"2001:db8:5:5::{host}").status_code
        for host in range(1, 6)
    ]
    assert statuses == [202, 202, 202, 429, 429]
    assert report(http, {"credentials": []}, address="2001:db8:5:6::1").status_code == 202

"""Refused console sign-ins and lockouts are in the audit log: address, email as typed and
why, never the password; the person signing in still gets one answer for all of them."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent
from app.services import offboarding, users
from app.services.actors import Actor
from app.services.ratelimit import LOGIN_LIMIT
from tests.cli.helpers import dump_table
from tests.helpers import MEMBER, PASSWORD

WRONG = "an entirely wrong password"


def refusals(app) -> list[tuple[str, str | None, str | None, dict]]:
    """``(actor, target, address, details)`` of each refused sign-in, oldest first."""
    with app.app_context():
        rows = db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == "user.sign_in_failed")
            .order_by(AuditEvent.id)
        )
        return [(e.actor, e.target, e.address, e.details) for e in rows]


def _deactivate(app) -> None:
    with app.app_context():
        offboarding.deactivate_user(Actor.cli(), MEMBER)


def _no_password(app) -> None:
    with app.app_context():
        users.create_user(Actor.cli(), "nopass@example.com", "No Password")


@pytest.mark.parametrize(
    ("typed", "password", "prepare", "reason"),
    [
        ("  Rep@Example.COM ", WRONG, None, "wrong_password"),
        ("stranger@example.com", WRONG, None, "unknown_email"),
        (MEMBER, PASSWORD, _deactivate, "deactivated"),
        ("nopass@example.com", WRONG, _no_password, "no_password"),
        ("<script>x</script>@example.com", WRONG, None, "unknown_email"),
    ],
)
def test_a_refused_sign_in_is_audited_with_its_reason(
    app, console, people, typed, password, prepare, reason
):
    if prepare:
        prepare(app)
    response = console.post("/login", {"email": typed, "password": password})
    assert response.status_code in (400, 401)
    (entry,) = refusals(app)
    actor, target, address, details = entry
    assert (actor, address) == ("anonymous", "127.0.0.1")
    assert details == {"email": typed, "reason": reason}
    assert target == typed.strip().lower()
    assert password not in dump_table(app, "audit_events")


def test_the_answer_does_not_depend_on_the_reason(app, console, people):
    _no_password(app)
    answers = set()
    for email in (MEMBER, "stranger@example.com", "nopass@example.com"):
        response = console.post("/login", {"email": email, "password": WRONG})
        page = response.get_data(as_text=True).replace(f'value="{email}"', "")
        answers.add((response.status_code, page.split('name="csrf_token"')[0]))
    assert len(answers) == 1


def test_a_lockout_is_audited_and_the_password_never_is(app, console, people):
    for _ in range(LOGIN_LIMIT):
        assert console.post("/login", {"email": MEMBER, "password": WRONG}).status_code == 401
    assert console.post("/login", {"email": MEMBER, "password": PASSWORD}).status_code == 429
    reasons = [details["reason"] for *_, details in refusals(app)]
    assert reasons == ["wrong_password"] * LOGIN_LIMIT + ["locked"]
    table = dump_table(app, "audit_events")
    assert PASSWORD not in table and WRONG not in table


def test_an_admin_reads_them_in_the_audit_log(app, console, people):
    console.post("/login", {"email": "stranger@example.com", "password": WRONG})
    console.login("admin@example.com")
    html = console.page("/audit?actor=anonymous")
    assert "Sign-in refused" in html and "stranger@example.com" in html
    assert "unknown_email" in html and "email as typed" in html


def test_a_member_sees_the_refusals_against_their_own_email(app, console, people):
    console.post("/login", {"email": MEMBER, "password": WRONG})
    console.post("/login", {"email": "admin@example.com", "password": WRONG})
    console.login(MEMBER)
    html = console.page("/audit")
    assert html.count("Sign-in refused") == 1 and "wrong_password" in html


def test_stepping_through_one_ipv6_64_does_not_escape_the_lock(app, console, people):
    """Whoever holds a /64 can send from 2**64 addresses: the lock is on the /64, while the
    audit log keeps each exact address (no wait for a window boundary: the sliding count
    carries the previous window's failures across it)."""

    def sign_in(password: str, address: str) -> int:
        form = {"email": MEMBER, "password": password, "csrf_token": console.token()}
        response = console.http.post("/login", data=form, environ_base={"REMOTE_ADDR": address})
        return response.status_code

    tried = [f"2001:db8:7:7::{host}" for host in range(1, LOGIN_LIMIT + 1)]
    assert [sign_in(WRONG, address) for address in tried] == [401] * LOGIN_LIMIT
    assert sign_in(PASSWORD, "2001:db8:7:7:ffff::1") == 429
    assert sign_in(PASSWORD, "2001:db8:7:8::1") == 302  # the next /64 is not locked
    logged = [(address, details["reason"]) for _, _, address, details in refusals(app)]
    assert logged == [(a, "wrong_password") for a in tried] + [("2001:db8:7:7:ffff::1", "locked")]

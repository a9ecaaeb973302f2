"""``gatehouse users set-password|deactivate`` (an operator's way back in, and out) and the
``users list`` table."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select, text

from app.extensions import db
from app.models import AuditEvent, Client, OutboxMessage, User
from app.services import users
from tests.cli.helpers import as_json, dump_table, failed, ok, row_counts
from tests.conftest import Factory

ADMIN, REP = "admin@example.com", "rep@example.com"
NEW_PASSWORD = "a brand new admin password"


def _signs_in(app, email: str, password: str) -> bool:
    with app.app_context():
        return users.authenticate(email, password) is not None


def test_set_password_from_stdin_lets_a_locked_out_admin_back_in(app, gh, factory: Factory):
    factory.user(ADMIN, role="admin", password="the password nobody remembers")
    record = as_json(
        gh(
            "users",
            "set-password",
            "Admin@Example.com",
            "--password-stdin",
            "--json",
            input=NEW_PASSWORD + "\n",
        )
    )
    assert (record["email"], record["password_set"], record["can_sign_in"]) == (ADMIN, True, True)
    assert _signs_in(app, ADMIN, NEW_PASSWORD)
    assert not _signs_in(app, ADMIN, "the password nobody remembers")
    with app.app_context():
        entry = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
        assert (entry.actor, entry.action, entry.target) == ("cli", "user.set_password", ADMIN)
    assert NEW_PASSWORD not in dump_table(app, "audit_events")


def test_set_password_prompts_twice_without_stdin(app, gh, factory: Factory):
    factory.user(REP)
    result = ok(gh("users", "set-password", REP, input=f"{NEW_PASSWORD}\n{NEW_PASSWORD}\n"))
    assert NEW_PASSWORD not in result.stdout  # the prompt hides it
    assert result.stdout.strip().endswith(f"password set for {REP}")
    assert _signs_in(app, REP, NEW_PASSWORD)


@pytest.mark.parametrize(
    ("email", "password", "fragment"),
    [
        (REP, "short", "at least 12 characters"),
        (REP, "", "no password on stdin"),
        ("nobody@example.com", NEW_PASSWORD, "no user with email nobody@example.com"),
    ],
)
def test_set_password_refusals_change_nothing(app, gh, factory, email, password, fragment):
    factory.user(REP, password="the old password stays")
    before = row_counts(app)
    failed(gh("users", "set-password", email, "--password-stdin", input=password + "\n"), fragment)
    assert row_counts(app) == before
    assert _signs_in(app, REP, "the old password stays")


def test_deactivate_revokes_every_active_client_in_one_go(app, gh, factory: Factory):
    factory.user(REP, password="a password for the rep")
    kept = factory.client(owner=REP, name="One")
    factory.client(owner=REP, name="Two")
    already = factory.client(owner=REP, name="Gone")
    ok(gh("clients", "revoke", already.client_id))
    record = as_json(gh("users", "deactivate", REP, "--json"))
    assert (record["active"], record["can_sign_in"], record["clients_revoked"]) == (False, False, 2)
    assert not _signs_in(app, REP, "a password for the rep")
    with app.app_context():
        statuses = db.session.scalars(select(Client.revoked_by).order_by(Client.id)).all()
        assert statuses == ["cli", "cli", "cli"]
        revocation_mails = db.session.scalars(
            select(OutboxMessage.client_id).where(OutboxMessage.kind == "revoked")
        ).all()
        assert kept.client_id in revocation_mails and len(revocation_mails) == 3
    again = ok(gh("users", "deactivate", REP))
    assert again.stdout.strip() == f"deactivated {REP}; clients revoked: 0"


@pytest.fixture
def a_revocation_that_fails(app, factory: Factory) -> Iterator[str]:
    """A database trigger refusing to revoke one client: the failure comes mid-transaction."""
    factory.user(REP)
    # revoked newest first: the newer client is revoked, then the older one is refused
    doomed = factory.client(owner=REP, name="Refused").client_id
    factory.client(owner=REP, name="Revoked first")
    with app.app_context():
        postgres = db.engine.dialect.name == "postgresql"
        statements = (
            [
                "CREATE FUNCTION gh_refuse() RETURNS trigger AS $$ BEGIN "
                "RAISE EXCEPTION 'refused by the test'; END $$ LANGUAGE plpgsql",
                "CREATE TRIGGER gh_refuse BEFORE UPDATE ON clients FOR EACH ROW "
                f"WHEN (NEW.client_id = '{doomed}') EXECUTE FUNCTION gh_refuse()",
            ]
            if postgres
            else [
                f"CREATE TRIGGER gh_refuse BEFORE UPDATE ON clients WHEN NEW.client_id = "
                f"'{doomed}' BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
            ]
        )
        for statement in statements:
            db.session.execute(text(statement))
        db.session.commit()
    try:
        yield doomed
    finally:
        with app.app_context():
            db.session.execute(text("DROP TRIGGER gh_refuse" + (" ON clients" if postgres else "")))
            if postgres:
                db.session.execute(text("DROP FUNCTION gh_refuse()"))
            db.session.commit()


def test_deactivate_is_one_transaction(app, gh, a_revocation_that_fails):
    before = row_counts(app)
    failed(gh("users", "deactivate", REP))  # the message depends on the database
    assert row_counts(app) == before  # no audit entry, no email, nothing
    with app.app_context():
        assert db.session.scalars(select(User.active).where(User.email == REP)).one() is True
        assert db.session.scalars(select(Client.revoked_at)).all() == [None, None]


def test_deactivate_an_unknown_user(app, gh):
    failed(gh("users", "deactivate", "nobody@example.com"), "no user with email")


def test_list_has_a_header_and_shows_role_active_and_password(gh, factory: Factory):
    factory.user(ADMIN, role="admin", services=[], password="an admin password")
    factory.user(REP, services=["jobs"])
    factory.user("gone@example.com", password="a password for later")
    ok(gh("users", "deactivate", "gone@example.com"))
    lines = [line.split("\t") for line in ok(gh("users", "list")).stdout.splitlines()]
    assert lines == [
        ["EMAIL", "ROLE", "ACTIVE", "PASSWORD", "NAME", "SERVICES"],
        [ADMIN, "admin", "yes", "set", "Admin", "-"],
        ["gone@example.com", "member", "no", "set", "Gone", "candidates,jobs"],
        [REP, "member", "yes", "none", "Rep", "jobs"],
    ]

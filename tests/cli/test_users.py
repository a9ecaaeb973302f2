"""``gatehouse users create|list``."""

from __future__ import annotations

import pytest
from argon2 import profiles
from sqlalchemy import select

from app.extensions import db
from app.models import User
from app.security.passwords import Passwords
from tests.cli.helpers import as_json, failed, ok, row_counts

PASSWORD = "correct horse battery"


def _user(app, email: str) -> User | None:
    with app.app_context():
        user = db.session.scalars(select(User).where(User.email == email)).first()
        if user is not None:
            db.session.expunge(user)
        return user


def test_create_member_with_services(app, gh):
    record = as_json(
        gh(
            "users",
            "create",
            "Rep@Example.com",
            "--name",
            "Service Rep",
            "--services",
            "jobs, candidates",
            "--json",
        )
    )
    assert record == {
        "email": "rep@example.com",
        "name": "Service Rep",
        "role": "member",
        "active": True,
        "services": ["candidates", "jobs"],
        "password_set": False,
        "can_sign_in": False,
    }
    user = _user(app, "rep@example.com")
    assert user is not None and user.password_hash is None


def test_create_admin(app, gh):
    record = as_json(
        gh("users", "create", "boss@example.com", "--name", "Boss", "--role", "admin", "--json")
    )
    assert record["role"] == "admin"
    assert record["services"] == []
    assert _user(app, "boss@example.com").role == "admin"


def test_create_text_output(gh):
    result = ok(gh("users", "create", "rep@example.com", "--name", "Rep"))
    assert "rep@example.com" in result.stdout


def test_unknown_role_is_refused(app, gh):
    before = row_counts(app)
    result = gh("users", "create", "rep@example.com", "--name", "Rep", "--role", "root")
    assert result.exit_code != 0
    assert "root" in result.stderr
    assert row_counts(app) == before


def test_password_from_stdin(app, gh):
    record = as_json(
        gh(
            "users",
            "create",
            "rep@example.com",
            "--name",
            "Rep",
            "--password-stdin",
            "--json",
            input=PASSWORD + "\n",
        )
    )
    assert record["can_sign_in"] is True
    user = _user(app, "rep@example.com")
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash
    assert Passwords(profiles.CHEAPEST).verify(user.password_hash, PASSWORD)
    assert not Passwords(profiles.CHEAPEST).verify(user.password_hash, PASSWORD + "\n")


def test_password_of_exactly_twelve_characters(app, gh):
    ok(
        gh(
            "users",
            "create",
            "rep@example.com",
            "--name",
            "Rep",
            "--password-stdin",
            input="abcdefghijkl\n",
        )
    )
    assert Passwords(profiles.CHEAPEST).verify(
        _user(app, "rep@example.com").password_hash, "abcdefghijkl"
    )


@pytest.mark.parametrize("stdin", ["abcdefghijk\n", "\n", ""])
def test_short_or_missing_password_is_refused(app, gh, stdin):
    before = row_counts(app)
    result = gh(
        "users", "create", "rep@example.com", "--name", "Rep", "--password-stdin", input=stdin
    )
    failed(result, "password")
    assert row_counts(app) == before


def test_duplicate_email_in_another_case_is_refused(app, gh, factory):
    factory.user("rep@example.com")
    before = row_counts(app)
    failed(
        gh("users", "create", "  REP@Example.COM ", "--name", "Again"), "rep@example.com", "exists"
    )
    assert row_counts(app) == before


@pytest.mark.parametrize("email", ["not-an-email", "two@@example.com", "a b@example.com", "@x.org"])
def test_invalid_email_is_refused(app, gh, email):
    before = row_counts(app)
    failed(gh("users", "create", email, "--name", "Someone"), "email")
    assert row_counts(app) == before


def test_unknown_service_is_refused(app, gh):
    before = row_counts(app)
    failed(
        gh("users", "create", "rep@example.com", "--name", "Rep", "--services", "jobs,payroll"),
        "payroll",
    )
    assert row_counts(app) == before


def test_list_json(gh, factory):
    factory.user("b@example.com", role="member", services=["jobs"])
    factory.user("a@example.com", role="admin", services=[], password="a long password")
    records = as_json(gh("users", "list", "--json"))
    assert [r["email"] for r in records] == ["a@example.com", "b@example.com"]
    assert records[0]["role"] == "admin" and records[0]["can_sign_in"] is True
    assert records[1]["services"] == ["jobs"] and records[1]["can_sign_in"] is False
    for record in records:
        assert {"email", "name", "role", "active", "services"} <= set(record)


def test_list_empty(gh):
    assert as_json(gh("users", "list", "--json")) == []
    assert ok(gh("users", "list")).stdout.strip() == "no users"

"""``gatehouse services list|add``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.services.catalogue import DEFAULT_SERVICES
from tests.cli.helpers import as_json, failed, ok, row_counts


def test_list_shows_the_default_catalogue(gh):
    records = as_json(gh("services", "list", "--json"))
    assert sorted((r["key"], r["name"]) for r in records) == sorted(DEFAULT_SERVICES)


def test_list_filter(gh):
    records = as_json(gh("services", "list", "--q", "employee", "--json"))
    assert [r["key"] for r in records] == ["employees"]


def test_add(gh):
    record = as_json(gh("services", "add", "payroll", "--name", "Payroll API", "--json"))
    assert record == {"key": "payroll", "name": "Payroll API"}
    keys = {r["key"] for r in as_json(gh("services", "list", "--json"))}
    assert "payroll" in keys
    assert "payroll" in ok(gh("services", "list")).stdout


def test_an_added_service_can_be_granted(gh, factory):
    ok(gh("services", "add", "payroll", "--name", "Payroll API"))
    owner = factory.user("rep@example.com")
    expires = (datetime.now(UTC).date() + timedelta(days=10)).isoformat()
    created = as_json(
        gh(
            "clients",
            "create",
            "--owner",
            owner,
            "--name",
            "sync",
            "--services",
            "payroll",
            "--expires",
            expires,
            "--json",
        )
    )
    assert created["scopes"] == ["payroll"]


def test_duplicate_key_is_refused(app, gh):
    before = row_counts(app)
    failed(gh("services", "add", "jobs", "--name", "Other Job API"), "jobs", "exists")
    assert row_counts(app) == before


@pytest.mark.parametrize("key", ["Bad Key", "_jobs", "payroll/api", "UPPER", "x" * 65, "jöbs"])
def test_invalid_key_is_refused(app, gh, key):
    before = row_counts(app)
    failed(gh("services", "add", key, "--name", "Some API"), "key")
    assert row_counts(app) == before


@pytest.mark.parametrize("key", ["introspect", "manage"])
def test_system_scope_names_are_reserved(app, gh, key):
    before = row_counts(app)
    failed(gh("services", "add", key, "--name", "Sneaky"), key, "reserved")
    assert row_counts(app) == before


def test_blank_name_is_refused(app, gh):
    before = row_counts(app)
    failed(gh("services", "add", "payroll", "--name", "   "), "name")
    assert row_counts(app) == before

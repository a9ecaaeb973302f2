"""``gatehouse clients create|list|revoke|rotate-secret``."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, date, datetime, timedelta

import jwt
import pytest

from tests.cli.helpers import as_json, dump_table, execute, failed, ok, row_counts
from tests.helpers import basic_auth

SECRET = re.compile(r"^gts_[0-9A-Za-z]{43}[0-9A-Za-z]{6}$")
OWNER = "rep@example.com"
LIST_KEYS = {
    "client_id",
    "name",
    "description",
    "owner",
    "scopes",
    "expires_on",
    "status",
    "created_at",
    "last_used_at",
    "last_used_ip",
    "token_endpoint_auth_method",
    "allowed_networks",
    "previous_secret_last_used_at",
}


def today() -> date:
    return datetime.now(UTC).date()


def in_days(days: int) -> str:
    return (today() + timedelta(days=days)).isoformat()


@pytest.fixture
def owner(factory) -> str:
    return factory.user(OWNER, role="member", services=["jobs", "candidates"])


@pytest.fixture
def create(gh, owner):
    """``create(name="x", services="jobs", expires=…, extra…)`` -> the CLI result."""

    def run(
        name: str = "payroll sync",
        services: str = "jobs",
        expires: str | None = None,
        *extra: str,
        owner_email: str = owner,
    ):
        return gh(
            "clients",
            "create",
            "--owner",
            owner_email,
            "--name",
            name,
            "--services",
            services,
            "--expires",
            expires or in_days(30),
            *extra,
        )

    return run


def token(http, client_id: str, secret: str):
    return http.post(
        "/token", data={"grant_type": "client_credentials"}, headers=basic_auth(client_id, secret)
    )


# -- create -------------------------------------------------------------------
def test_create_json_prints_exactly_the_contract_keys(create):
    record = as_json(create("payroll sync", "jobs,candidates", in_days(30), "--json"))
    assert set(record) == {
        "client_id",
        "client_secret",
        "name",
        "scopes",
        "expires_on",
        "token_endpoint_auth_method",
        "allowed_networks",
    }
    assert record["token_endpoint_auth_method"] == "client_secret_basic"
    assert record["allowed_networks"] == []
    assert record["name"] == "payroll sync"
    assert isinstance(record["scopes"], list)
    assert sorted(record["scopes"]) == ["candidates", "jobs"]
    assert record["expires_on"] == in_days(30)
    assert SECRET.match(record["client_secret"])
    assert re.fullmatch(r"[A-Za-z0-9_-]{16,}", record["client_id"])


def test_created_credentials_get_a_token(create, http):
    record = as_json(create("payroll sync", "jobs,candidates", None, "--json"))
    response = token(http, record["client_id"], record["client_secret"])
    assert response.status_code == 200, response.json
    assert response.json["scope"] == "candidates jobs"


def test_create_text_output_shows_the_secret_once(create):
    result = ok(create("payroll sync", "jobs", None, "--description", "nightly"))
    assert re.search(r"gts_[0-9A-Za-z]{49}", result.stdout)
    assert "client_id" in result.stdout
    assert "not shown again" in result.stdout


def test_only_a_hash_of_the_secret_is_stored(app, create):
    record = as_json(create("payroll sync", "jobs", None, "--json"))
    secret = record["client_secret"]
    clients = dump_table(app, "clients")
    assert record["client_id"] in clients
    assert hashlib.sha256(secret.encode()).hexdigest() in clients
    for table in ("clients", "audit_events"):
        text = dump_table(app, table)
        assert secret not in text
        assert secret[4:30] not in text
        assert secret[-25:] not in text
    assert "client.create" in dump_table(app, "audit_events")


def test_cli_may_grant_system_scopes_to_a_member(create):
    record = as_json(create("introspector", "introspect,manage,jobs", None, "--json"))
    assert sorted(record["scopes"]) == ["introspect", "jobs", "manage"]


def test_cli_may_grant_services_the_member_does_not_hold(create):
    record = as_json(create("employees feed", "employees", None, "--json"))
    assert record["scopes"] == ["employees"]


def test_expiry_today_and_day_366_are_allowed(create):
    assert as_json(create("today", "jobs", in_days(0), "--json"))["expires_on"] == in_days(0)
    assert as_json(create("furthest", "jobs", in_days(366), "--json"))["expires_on"] == in_days(366)


def _refused(app, result, *fragments):
    """A failing create wrote nothing: same row counts before and after."""
    before = row_counts(app)
    line = failed(result(), *fragments)
    assert row_counts(app) == before
    return line


def test_unknown_owner(app, create, owner):
    _refused(app, lambda: create(owner_email="nobody@example.com"), "nobody@example.com")


def test_unknown_service(app, create):
    _refused(app, lambda: create("x", "jobs,payroll"), "payroll")


def test_no_service(app, create):
    _refused(app, lambda: create("x", " , "), "service")


def test_expiry_in_the_past(app, create):
    _refused(app, lambda: create("x", "jobs", in_days(-1)), in_days(-1), "past")


def test_expiry_day_367_is_too_far(app, create):
    line = _refused(app, lambda: create("x", "jobs", in_days(367)), in_days(367))
    assert in_days(366) in line  # names the latest allowed day


@pytest.mark.parametrize(
    "value",
    [
        "2027-02-30",
        "2026-13-01",
        "31/12/2026",
        "12/31/2026",
        "next week",
        "2026-1-5",
        (today() + timedelta(days=10)).strftime("%Y%m%d"),  # ISO basic format: not YYYY-MM-DD
        (today() + timedelta(days=10)).strftime("%G-W%V-%u"),  # ISO week date: not YYYY-MM-DD
        (today() + timedelta(days=10)).isoformat() + "T00:00",
    ],
)
def test_impossible_or_malformed_expiry(app, create, value):
    _refused(app, lambda: create("x", "jobs", value), "date")


def test_duplicate_name_among_active_clients(app, gh, create):
    first = as_json(create("Payroll Sync", "jobs", None, "--json"))
    _refused(app, lambda: create("  payroll SYNC  "), "payroll sync")
    ok(gh("clients", "revoke", first["client_id"]))
    again = as_json(create("  payroll SYNC  ", "jobs", None, "--json"))
    assert again["client_id"] != first["client_id"]


def test_expired_client_frees_its_name(app, create):
    first = as_json(create("Payroll Sync", "jobs", None, "--json"))
    execute(
        app,
        "UPDATE clients SET expires_on = :d WHERE client_id = :c",
        d=today() - timedelta(days=1),
        c=first["client_id"],
    )
    ok(create("payroll sync"))


def test_same_name_for_another_owner_is_fine(create, factory):
    factory.user("other@example.com")
    ok(create("payroll sync"))
    ok(create("payroll sync", owner_email="other@example.com"))


def test_the_26th_active_client_fails_clearly(app, create, factory, owner):
    for number in range(25):
        factory.client(owner=owner, name=f"client {number}")
    line = _refused(app, lambda: create("one too many"), OWNER, "25")
    assert "revoke" in line


def test_name_length(app, create):
    ok(create("n" * 100))
    _refused(app, lambda: create("m" * 101), "name", "100")


def test_blank_name(app, create):
    _refused(app, lambda: create("   "), "name")


def test_description_length(app, create):
    ok(create("first", "jobs", None, "--description", "d" * 1000))
    _refused(
        app,
        lambda: create("second", "jobs", None, "--description", "d" * 1001),
        "description",
        "1000",
    )


def test_script_and_sql_looking_text_is_stored_verbatim(create, gh):
    name = "<script>alert(1)</script>'; DROP TABLE clients; --"
    ok(create(name, "jobs", None, "--description", '" OR 1=1 --'))
    [record] = as_json(gh("clients", "list", "--json"))
    assert record["name"] == name
    assert record["description"] == '" OR 1=1 --'


# -- list ---------------------------------------------------------------------
@pytest.fixture
def three(app, gh, create, factory):
    """An active, a revoked and an expired client of the owner, and one of someone else."""
    active = as_json(
        create(
            "active one", "jobs,candidates", in_days(30), "--json", "--description", "the live one"
        )
    )
    revoked = as_json(create("revoked one", "jobs", None, "--json"))
    expired = as_json(create("expired one", "jobs", None, "--json"))
    ok(gh("clients", "revoke", revoked["client_id"]))
    execute(
        app,
        "UPDATE clients SET expires_on = :d WHERE client_id = :c",
        d=today() - timedelta(days=1),
        c=expired["client_id"],
    )
    factory.user("other@example.com", role="admin")
    other = as_json(create("other", "jobs", None, "--json", owner_email="other@example.com"))
    return {"active": active, "revoked": revoked, "expired": expired, "other": other}


def _by_id(records):
    return {r["client_id"]: r for r in records}


def test_list_json_fields(three, gh):
    records = _by_id(as_json(gh("clients", "list", "--owner", OWNER, "--json")))
    assert set(records) == {three["active"]["client_id"]}
    record = records[three["active"]["client_id"]]
    assert set(record) >= LIST_KEYS
    assert record["name"] == "active one"
    assert record["description"] == "the live one"
    assert record["owner"] == OWNER
    assert record["scopes"] == ["candidates", "jobs"]
    assert record["expires_on"] == in_days(30)
    assert record["status"] == "active"
    assert record["created_at"].startswith(today().isoformat())
    assert record["last_used_at"] is None
    assert record["last_used_ip"] is None
    assert record["token_endpoint_auth_method"] == "client_secret_basic"
    assert record["allowed_networks"] == []
    assert record["previous_secret_last_used_at"] is None
    assert "client_secret" not in record
    assert "secret_hash" not in record


def test_list_status_filter(three, gh):
    def ids(*args):
        return {
            r["client_id"]: r["status"]
            for r in as_json(gh("clients", "list", "--owner", OWNER, *args, "--json"))
        }

    active, revoked, expired = (three[k]["client_id"] for k in ("active", "revoked", "expired"))
    assert ids() == {active: "active"}
    assert ids("--status", "active") == {active: "active"}
    assert ids("--status", "inactive") == {revoked: "revoked", expired: "expired"}
    assert ids("--status", "all") == {active: "active", revoked: "revoked", expired: "expired"}


def test_list_without_owner_shows_everyone(three, gh):
    records = as_json(gh("clients", "list", "--status", "all", "--json"))
    assert {r["owner"] for r in records} == {OWNER, "other@example.com"}
    assert len(records) == 4


def test_list_owner_in_any_case(three, gh):
    records = as_json(gh("clients", "list", "--owner", "Other@Example.com", "--json"))
    assert [r["client_id"] for r in records] == [three["other"]["client_id"]]


def test_list_unknown_owner_and_status(gh, owner):
    failed(gh("clients", "list", "--owner", "nobody@example.com"), "nobody@example.com")
    result = gh("clients", "list", "--status", "dead")
    assert result.exit_code != 0 and "dead" in result.stderr


def test_list_text_and_empty(three, gh):
    text = ok(gh("clients", "list", "--owner", OWNER)).stdout
    assert three["active"]["client_id"] in text
    assert three["revoked"]["client_id"] not in text
    assert "gts_" not in text
    assert (
        as_json(
            gh("clients", "list", "--owner", "other@example.com", "--status", "inactive", "--json")
        )
        == []
    )


def test_list_shows_last_use(create, gh, http):
    record = as_json(create("used", "jobs", None, "--json"))
    response = token(http, record["client_id"], record["client_secret"])
    response.close()  # the use is written once the response is sent
    assert response.status_code == 200
    [listed] = as_json(gh("clients", "list", "--json"))
    assert listed["last_used_at"] is not None


# -- revoke -------------------------------------------------------------------
def test_revoke_then_revoke_again(app, create, gh, http):
    record = as_json(create("doomed", "jobs", None, "--json"))
    assert token(http, record["client_id"], record["client_secret"]).status_code == 200
    result = ok(gh("clients", "revoke", record["client_id"]))
    assert "revoked" in result.stdout and record["client_id"] in result.stdout
    assert token(http, record["client_id"], record["client_secret"]).status_code == 401
    [listed] = as_json(gh("clients", "list", "--status", "inactive", "--json"))
    assert listed["status"] == "revoked"

    events = row_counts(app)["audit_events"]
    again = ok(gh("clients", "revoke", record["client_id"]))
    assert "already revoked" in again.stdout
    assert row_counts(app)["audit_events"] == events


def test_revoke_json(create, gh):
    record = as_json(create("doomed", "jobs", None, "--json"))
    revoked = as_json(gh("clients", "revoke", record["client_id"], "--json"))
    assert revoked["client_id"] == record["client_id"]
    assert revoked["status"] == "revoked"


def test_revoke_unknown_client(app, gh, owner):
    before = row_counts(app)
    failed(gh("clients", "revoke", "no-such-client"), "no-such-client")
    assert row_counts(app) == before


def test_revoke_is_audited_as_cli(app, create, gh):
    record = as_json(create("doomed", "jobs", None, "--json"))
    ok(gh("clients", "revoke", record["client_id"]))
    audit = dump_table(app, "audit_events")
    assert "client.revoke" in audit
    assert "'cli'" in audit


# -- rotate-secret ------------------------------------------------------------
def test_rotate_json_without_grace(create, gh, http):
    record = as_json(create("rotating", "jobs", None, "--json"))
    rotated = as_json(gh("clients", "rotate-secret", record["client_id"], "--json"))
    assert set(rotated) == {"client_id", "client_secret", "previous_secret_valid_until"}
    assert rotated["client_id"] == record["client_id"]
    assert SECRET.match(rotated["client_secret"])
    assert rotated["client_secret"] != record["client_secret"]
    assert rotated["previous_secret_valid_until"] is None
    assert token(http, record["client_id"], record["client_secret"]).status_code == 401
    assert token(http, record["client_id"], rotated["client_secret"]).status_code == 200


def test_rotate_with_grace_keeps_the_old_secret_working(app, create, gh, http):
    record = as_json(create("rotating", "jobs", None, "--json"))
    started = datetime.now(UTC)
    rotated = as_json(
        gh("clients", "rotate-secret", record["client_id"], "--grace", "60", "--json")
    )
    until = datetime.fromisoformat(rotated["previous_secret_valid_until"].replace("Z", "+00:00"))
    assert timedelta(seconds=58) <= until - started <= timedelta(seconds=70)
    old = token(http, record["client_id"], record["client_secret"])
    assert old.status_code == 200, old.json
    new = token(http, record["client_id"], rotated["client_secret"])
    assert new.status_code == 200, new.json
    for text in (dump_table(app, "clients"), dump_table(app, "audit_events")):
        assert rotated["client_secret"] not in text
        assert record["client_secret"] not in text


def test_rotate_text_output(create, gh):
    record = as_json(create("rotating", "jobs", None, "--json"))
    result = ok(gh("clients", "rotate-secret", record["client_id"]))
    assert re.search(r"gts_[0-9A-Za-z]{49}", result.stdout)
    assert "no longer works" in result.stdout


def test_rotate_errors(app, create, gh):
    record = as_json(create("rotating", "jobs", None, "--json"))
    before = row_counts(app)
    failed(gh("clients", "rotate-secret", "no-such-client"), "no-such-client")
    failed(gh("clients", "rotate-secret", record["client_id"], "--grace", str(8 * 86400)), "grace")
    assert row_counts(app) == before
    result = gh("clients", "rotate-secret", record["client_id"], "--grace", "-1")
    assert result.exit_code != 0
    ok(gh("clients", "revoke", record["client_id"]))
    before = row_counts(app)
    failed(gh("clients", "rotate-secret", record["client_id"]), "revoked")
    assert row_counts(app) == before


def test_token_of_rotated_client_is_signed(create, gh, http, keys_dir):
    """Sanity: the token after rotation names a published kid."""
    record = as_json(create("rotating", "jobs", None, "--json"))
    rotated = as_json(gh("clients", "rotate-secret", record["client_id"], "--json"))
    access = token(http, record["client_id"], rotated["client_secret"]).json["access_token"]
    assert jwt.get_unverified_header(access)["kid"] in {p.stem for p in keys_dir.glob("*.pem")}

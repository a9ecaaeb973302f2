"""``/api/v1/audit-events``: administrators read everything; members their own changes and
those made to their clients; filters by actor, target and day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.api.conftest import assert_api_error
from tests.helpers import MEMBER, OTHER


def test_admin_reads_every_entry_newest_first(admin, member, other):
    member.create(name="mine")
    other.create(name="theirs")
    events = admin.get("/audit-events").json["items"]
    actors = {e["actor"] for e in events}
    assert {f"client:{member.creds.client_id}", f"client:{other.creds.client_id}", "cli"} <= actors
    assert [e["id"] for e in events] == sorted((e["id"] for e in events), reverse=True)


def test_members_read_their_own_and_about_their_clients_only(admin, member, other):
    mine = member.create(name="mine")["client_id"]
    theirs = other.create(name="theirs")["client_id"]
    by_admin = admin.create(name="for the member", owner=MEMBER)["client_id"]
    targets = {e["target"] for e in member.get("/audit-events", per_page=100).json["items"]}
    assert {mine, by_admin, member.creds.client_id, MEMBER} <= targets
    assert theirs not in targets and other.creds.client_id not in targets and OTHER not in targets


def test_filters(admin, member):
    cid = member.create(name="filtered")["client_id"]
    by_actor = admin.get("/audit-events", actor=f"client:{member.creds.client_id}").json
    assert [e["target"] for e in by_actor["items"]] == [cid]
    assert admin.get("/audit-events", target=cid.lower()).json["total"] == 1
    today = datetime.now(UTC).date()
    assert admin.get("/audit-events", since=today.isoformat()).json["total"] >= 1
    tomorrow = (today + timedelta(days=1)).isoformat()
    assert admin.get("/audit-events", since=tomorrow).json["total"] == 0


def test_an_entry_carries_no_secret_and_says_where_from(admin):
    admin.create(name="audited")
    event = admin.get("/audit-events", per_page=1).json["items"][0]
    assert event["action"] == "client.create" and event["address"] == "127.0.0.1"
    assert event["at"].endswith("Z")


def test_a_bad_day_is_422(admin):
    assert_api_error(admin.get("/audit-events", since="2026-13-01"), 422, fields={"since"})

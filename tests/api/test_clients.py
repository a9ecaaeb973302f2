"""``/api/v1/clients``: generate, list, read, edit, revoke and rotate through the API, with the
same rules, audit entries and emails as the console and the CLI."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, OutboxMessage
from app.security import secrets as client_secrets
from tests.api.conftest import Caller, assert_api_error, in_days
from tests.conftest import Credentials
from tests.helpers import MEMBER, OTHER
from tests.oauth.helpers import access_token, introspect


def test_generate_answers_the_secret_once_and_it_works_at_token(http, member, factory):
    created = member.create(name="Payroll sync", description="nightly", services=["jobs"])
    assert client_secrets.is_well_formed(created["client_secret"])
    assert created["owner"] == MEMBER and created["scopes"] == ["jobs"]
    assert (
        created["status"] == "active"
        and created["created_by"] == f"client:{member.creds.client_id}"
    )
    creds = Credentials(created["client_id"], created["client_secret"])
    assert access_token(http, creds)
    shown = member.get(f"/clients/{created['client_id']}")
    assert shown.status_code == 200
    assert "client_secret" not in shown.json and "gts_" not in shown.get_data(as_text=True)
    assert shown.headers["Cache-Control"] == "no-store"


def test_each_change_is_audited_as_the_client_with_the_address_and_mailed(app, member):
    created = member.create()
    cid = created["client_id"]
    member.patch(f"/clients/{cid}", {"description": "edited"})
    member.post(f"/clients/{cid}/rotate-secret", {"grace_seconds": 60})
    member.post(f"/clients/{cid}/revoke")
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.target == cid)).all()
        mails = db.session.scalars(select(OutboxMessage.kind).where(OutboxMessage.client_id == cid))
        kinds = sorted(mails)
    assert [e.action for e in sorted(events, key=lambda e: e.id)] == [
        "client.create",
        "client.update",
        "client.rotate_secret",
        "client.revoke",
    ]
    assert {e.actor for e in events} == {f"client:{member.creds.client_id}"}
    assert {e.address for e in events} == {"127.0.0.1"}
    assert kinds == ["created", "revoked", "secret_rotated"]


def test_admin_generates_for_anyone_with_any_scope(admin):
    created = admin.create(owner=MEMBER.upper(), services=["employees", "introspect", "manage"])
    assert created["owner"] == MEMBER
    assert created["scopes"] == ["employees", "introspect", "manage"]


def test_member_rules_owner_services_and_system_scopes(member):
    body = assert_api_error(member.post("/clients", _body(owner=OTHER)), 403, "forbidden")
    assert set(body["fields"]) == {"owner"}
    assert_api_error(
        member.post("/clients", _body(services=["employees"])), 403, fields={"services"}
    )
    assert_api_error(member.post("/clients", _body(services=["manage"])), 403, fields={"services"})
    assert member.create(owner=MEMBER)["owner"] == MEMBER


def test_unknown_services_and_unknown_owner_are_422_naming_the_field(admin):
    assert_api_error(admin.post("/clients", _body(services=["nope"])), 422, fields={"services"})
    assert_api_error(
        admin.post("/clients", _body(owner="ghost@example.com")), 422, fields={"owner"}
    )


def test_duplicate_name_is_409(member):
    member.create(name="Payroll sync")
    body = assert_api_error(member.post("/clients", _body(name="  payroll   SYNC ")), 409)
    assert set(body["fields"]) == {"name"}


def test_the_cap_is_409_with_a_clear_message(app, member):
    # the member's own manage client is one of the 25
    for number in range(24):
        member.create(name=f"client {number}")
    body = assert_api_error(
        member.post("/clients", _body(name="one too many")), 409, "limit_reached"
    )
    assert "most allowed is 25" in body["message"]


def test_the_cap_holds_under_concurrent_api_creations(app, as_owner):
    """30 creations at once for one owner (whose manage client is 1 of the 25): 24 win."""
    racers = 30
    caller = as_owner(OTHER)
    barrier = threading.Barrier(racers)

    def race(number: int) -> int:
        http = app.test_client()
        barrier.wait(timeout=30)
        response = Caller(http, caller.token).post("/clients", _body(name=f"racer {number}"))
        return response.status_code

    with ThreadPoolExecutor(max_workers=racers) as pool:
        statuses = list(pool.map(race, range(racers)))
    assert sorted(set(statuses)) == [201, 409], statuses
    assert statuses.count(201) == 24
    listed = caller.get("/clients", per_page=100).json
    assert listed["total"] == 25


def test_list_filters_and_pages(admin, member, other):
    for number in range(3):
        member.create(name=f"member {number}", description="payroll" if number else "")
    other.create(name="other's")
    mine = member.get("/clients").json
    assert {c["owner"] for c in mine["items"]} == {MEMBER} and mine["total"] == 4
    assert member.get("/clients", q="PAYROLL").json["total"] == 2
    assert admin.get("/clients", owner=OTHER).json["total"] == 2
    assert admin.get("/clients").json["total"] == 4 + 2 + 1
    first = admin.get("/clients", per_page=3).json
    assert first["next_page"] == 2 and len(first["items"]) == 3
    last = admin.get("/clients", per_page=3, page=3).json
    assert last["next_page"] is None and len(last["items"]) == 1
    beyond = admin.get("/clients", per_page=3, page=4).json
    assert beyond["items"] == [] and beyond["next_page"] is None and beyond["total"] == 7
    seen = {
        c["client_id"]
        for p in (1, 2, 3)
        for c in admin.get("/clients", per_page=3, page=p).json["items"]
    }
    assert len(seen) == 7


def test_status_filter(member):
    cid = member.create(name="gone")["client_id"]
    member.post(f"/clients/{cid}/revoke")
    assert [c["client_id"] for c in member.get("/clients", status="inactive").json["items"]] == [
        cid
    ]
    assert member.get("/clients", status="all").json["total"] == 2
    assert member.get("/clients").json["total"] == 1


def test_member_filtering_by_another_owner_is_403_whoever_it_is(member):
    assert_api_error(member.get("/clients", owner=OTHER), 403, fields={"owner"})
    assert_api_error(member.get("/clients", owner="ghost@example.com"), 403, fields={"owner"})
    assert member.get("/clients", owner=MEMBER).status_code == 200


def test_admin_filtering_by_an_unknown_owner_is_422(admin):
    assert_api_error(admin.get("/clients", owner="ghost@example.com"), 422, fields={"owner"})


def test_another_users_client_is_404_like_a_missing_one(member, other):
    theirs = other.create()["client_id"]
    missing = "A" * 24
    for client_id in (theirs, missing, "not-even-an-id"):
        assert_api_error(member.get(f"/clients/{client_id}"), 404, "not_found")
        assert_api_error(member.patch(f"/clients/{client_id}", {"name": "x"}), 404)
        assert_api_error(member.post(f"/clients/{client_id}/revoke"), 404)
        assert_api_error(member.post(f"/clients/{client_id}/rotate-secret"), 404)
    assert other.get(f"/clients/{theirs}").json["status"] == "active"


def test_edit_name_description_and_services(http, app, member, factory):
    created = member.create(services=["jobs", "candidates"])
    cid = created["client_id"]
    creds = Credentials(cid, created["client_secret"])
    token = access_token(http, creds)
    spy = factory.introspector()
    edited = member.patch(f"/clients/{cid}", {"name": "Renamed", "services": ["jobs"]})
    assert edited.status_code == 200, edited.json
    assert edited.json["name"] == "Renamed" and edited.json["scopes"] == ["jobs"]
    assert edited.json["description"] == ""  # left out: left as it was
    assert introspect(http, token, spy).json == {"active": False}  # narrowing kills it
    assert member.patch(f"/clients/{cid}", {}).json["name"] == "Renamed"


def test_edit_refuses_other_fields_and_nulls(member):
    cid = member.create()["client_id"]
    for field, value in [
        ("owner", OTHER),
        ("expires_on", in_days(3)),
        ("client_secret", "x"),
        ("status", "revoked"),
        ("scopes", ["jobs"]),
    ]:
        assert_api_error(member.patch(f"/clients/{cid}", {field: value}), 422, fields={field})
    assert_api_error(member.patch(f"/clients/{cid}", {"name": None}), 422, fields={"name"})
    assert member.get(f"/clients/{cid}").json["name"] == "Payroll sync"


def test_editing_a_revoked_client_is_409(member):
    cid = member.create()["client_id"]
    member.post(f"/clients/{cid}/revoke")
    assert_api_error(member.patch(f"/clients/{cid}", {"name": "again"}), 409)
    assert_api_error(member.post(f"/clients/{cid}/rotate-secret"), 409)


def test_revoke_is_idempotent_and_kills_tokens(http, member, factory):
    created = member.create()
    cid = created["client_id"]
    token = access_token(http, Credentials(cid, created["client_secret"]))
    first = member.post(f"/clients/{cid}/revoke")
    assert first.status_code == 200
    assert first.json["status"] == "revoked" and first.json["already_revoked"] is False
    assert first.json["revoked_by"] == f"client:{member.creds.client_id}"
    again = member.post(f"/clients/{cid}/revoke")
    assert again.status_code == 200 and again.json["already_revoked"] is True
    assert introspect(http, token, factory.introspector()).json == {"active": False}


def test_rotate_with_and_without_grace(http, member):
    created = member.create()
    cid, old = created["client_id"], created["client_secret"]
    rotated = member.post(f"/clients/{cid}/rotate-secret", {"grace_seconds": 3600})
    assert rotated.status_code == 200
    assert rotated.json["previous_secret_valid_until"].endswith("Z")
    new = rotated.json["client_secret"]
    assert access_token(http, Credentials(cid, old)) and access_token(http, Credentials(cid, new))
    # no body at all: grace 0, the old secret stops now
    bare = member.post(f"/clients/{cid}/rotate-secret")
    assert bare.status_code == 200 and bare.json["previous_secret_valid_until"] is None
    response = http.post(
        "/token", data={"grant_type": "client_credentials"}, headers=Credentials(cid, new).basic
    )
    assert response.status_code == 401


def test_script_looking_text_is_stored_and_answered_verbatim(member):
    name = "<script>alert(1)</script>'; DROP TABLE clients; --"
    description = 'line one\nline two\t"quoted" & <b>bold</b>'
    created = member.create(name=name, description=description)
    shown = member.get(f"/clients/{created['client_id']}")
    assert shown.json["name"] == name and shown.json["description"] == description
    assert shown.mimetype == "application/json"
    assert shown.headers["X-Content-Type-Options"] == "nosniff"


def _body(**fields) -> dict:
    body = {"name": "Payroll sync", "expires_on": in_days(30), "services": ["jobs"]}
    body.update(fields)
    return body

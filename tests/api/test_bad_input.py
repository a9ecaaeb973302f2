"""Bad input to the management API: each case gets its status and the error body
``{"error", "message", "fields"}``, with ``fields`` naming every bad input, and nothing
is written (413 over 64 KiB, 415 not JSON-typed, 400 not JSON, 422 wrong shape or value)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent, Client
from tests.api.conftest import assert_api_error, in_days

GOOD = {"name": "Payroll sync", "expires_on": "TODAY+30", "services": ["jobs"]}


def good(**changes) -> dict:
    body = {**GOOD, "expires_on": in_days(30), **changes}
    return {k: v for k, v in body.items() if v is not ...}


def counts(app) -> tuple[int, int]:
    with app.app_context():
        return (
            db.session.scalar(select(func.count()).select_from(Client)),
            db.session.scalar(select(func.count()).select_from(AuditEvent)),
        )


RAW = "application/json"
BODIES = [
    # (id, raw body, content type, status, error)
    ("not-json", b"{name: 1}", RAW, 400, "invalid_json"),
    ("truncated", b'{"name": "x"', RAW, 400, "invalid_json"),
    ("not-utf8", b'{"name": "\xff"}', RAW, 400, "invalid_json"),
    ("empty", b"", RAW, 400, "invalid_json"),
    ("text-plain", json.dumps(GOOD).encode(), "text/plain", 415, "unsupported_media_type"),
    (
        "form",
        b"name=x&services=jobs",
        "application/x-www-form-urlencoded",
        415,
        "unsupported_media_type",
    ),
    ("no-content-type", json.dumps(GOOD).encode(), None, 415, "unsupported_media_type"),
    (
        "over-64-KiB",
        json.dumps({**GOOD, "description": "x" * 70_000}).encode(),
        RAW,
        413,
        "payload_too_large",
    ),
]


@pytest.mark.parametrize(
    ("raw", "content_type", "status", "error"), [b[1:] for b in BODIES], ids=[b[0] for b in BODIES]
)
def test_bodies_that_are_not_json_objects(app, admin, raw, content_type, status, error):
    before = counts(app)
    headers = {"Content-Type": content_type} if content_type else {}
    response = admin.post("/clients", data=raw, headers=headers)
    assert_api_error(response, status, error, fields=set())
    assert counts(app) == before


FIELDS = [
    # (id, body, fields named)
    ("array", [GOOD], {"body"}),
    ("unknown-field", good(colour="red"), {"colour"}),
    ("two-unknown-fields", good(a=1, b=2), {"a", "b"}),
    ("missing-all", {}, {"name", "expires_on", "services"}),
    ("name-number", good(name=5), {"name"}),
    ("name-null", good(name=None), {"name"}),
    ("name-empty", good(name=""), {"name"}),
    ("name-spaces", good(name="   "), {"name"}),
    ("name-unicode-spaces", good(name="\u2003\u00a0"), {"name"}),
    ("name-101", good(name="n" * 101), {"name"}),
    ("name-nul", good(name="a\x00b"), {"name"}),
    ("name-newline", good(name="a\nb"), {"name"}),
    ("description-1001", good(description="d" * 1001), {"description"}),
    ("description-nul", good(description="\x00"), {"description"}),
    ("services-string", good(services="jobs"), {"services"}),
    ("services-empty", good(services=[]), {"services"}),
    ("services-item-number", good(services=["jobs", 7]), {"services.1"}),
    ("services-item-bad", good(services=["Jobs!"]), {"services.0"}),
    ("services-unknown", good(services=["nope"]), {"services"}),
    ("expires-number", good(expires_on=20270101), {"expires_on"}),
    ("expires-impossible", good(expires_on="2027-02-30"), {"expires_on"}),
    ("expires-short", good(expires_on="2027-1-1"), {"expires_on"}),
    ("expires-datetime", good(expires_on="2027-01-01T00:00:00"), {"expires_on"}),
    ("expires-compact", good(expires_on="20270101"), {"expires_on"}),
    ("expires-past", good(expires_on=in_days(-1)), {"expires_on"}),
    ("expires-too-far", good(expires_on=in_days(367)), {"expires_on"}),
    ("owner-not-email", good(owner="nobody"), {"owner"}),
    ("owner-unknown", good(owner="ghost@example.com"), {"owner"}),
    ("many-at-once", good(name=1, services="x", zz=0), {"name", "services", "zz"}),
]


@pytest.mark.parametrize(("body", "fields"), [f[1:] for f in FIELDS], ids=[f[0] for f in FIELDS])
def test_create_with_bad_fields_is_422_naming_them(app, admin, body, fields):
    before = counts(app)
    assert_api_error(admin.post("/clients", body), 422, "invalid_input", fields)
    assert counts(app) == before


def test_the_edges_of_expiry_are_accepted(admin):
    assert admin.create(name="today", expires_on=in_days(0))
    assert admin.create(name="last day", expires_on=in_days(366))


GRACE = [
    ("negative", -1),
    ("too-long", 7 * 86400 + 1),
    ("string", "60"),
    ("fraction", 1.5),
    ("boolean", True),
    ("null", None),
]


@pytest.mark.parametrize("value", [g[1] for g in GRACE], ids=[g[0] for g in GRACE])
def test_rotate_with_a_bad_grace_is_422(admin, value):
    cid = admin.create()["client_id"]
    response = admin.post(f"/clients/{cid}/rotate-secret", {"grace_seconds": value})
    assert_api_error(response, 422, "invalid_input", {"grace_seconds"})


def test_a_whole_number_written_as_a_float_is_a_whole_number(admin):
    """JSON Schema's integer admits 60.0, so the API does too."""
    cid = admin.create()["client_id"]
    response = admin.post(f"/clients/{cid}/rotate-secret", {"grace_seconds": 60.0})
    assert response.status_code == 200, response.json


QUERIES = [
    ("/clients", {"status": "revoked"}, {"status"}),
    ("/clients", {"page": "0"}, {"page"}),
    ("/clients", {"page": "one"}, {"page"}),
    ("/clients", {"per_page": "101"}, {"per_page"}),
    ("/clients", {"q": "x" * 101}, {"q"}),
    ("/clients", {"q": "a\x00"}, {"q"}),
    ("/clients", {"colour": "red"}, {"colour"}),
    ("/audit-events", {"since": "2026-02-30"}, {"since"}),
    ("/audit-events", {"since": ""}, {"since"}),
    ("/audit-events", {"until": "yesterday"}, {"until"}),
    ("/services", {"per_page": "-1"}, {"per_page"}),
    ("/users", {"page": "1.5"}, {"page"}),
]


@pytest.mark.parametrize(
    ("path", "query", "fields"), QUERIES, ids=[f"{q[0]}-{'-'.join(q[1])}" for q in QUERIES]
)
def test_bad_query_parameters_are_422_naming_them(admin, path, query, fields):
    assert_api_error(admin.get(path, **query), 422, "invalid_input", fields)


USERS = [
    ("email-bad", {"email": "nope", "name": "N"}, {"email"}),
    ("name-missing", {"email": "a@example.com"}, {"name"}),
    ("role-bad", {"email": "a@example.com", "name": "N", "role": "root"}, {"role"}),
    ("password-short", {"email": "a@example.com", "name": "N", "password": "short"}, {"password"}),
    ("services-unknown", {"email": "a@example.com", "name": "N", "services": ["x"]}, {"services"}),
]


@pytest.mark.parametrize(("body", "fields"), [u[1:] for u in USERS], ids=[u[0] for u in USERS])
def test_create_user_with_bad_fields_is_422(admin, body, fields):
    assert_api_error(admin.post("/users", body), 422, "invalid_input", fields)


def test_errors_outside_the_operations_keep_the_shape(http, admin):
    assert_api_error(admin.get("/nothing-here"), 404, "not_found")
    response = http.delete("/api/v1/clients", headers=admin.headers())
    assert_api_error(response, 405, "method_not_allowed")
    assert set(response.headers["Allow"].split(", ")) >= {"GET", "POST"}

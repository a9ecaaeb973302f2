"""Every operation for a member and an administrator, on their own objects and another
user's: members reach only their own clients (another's is a 404, as if it did not exist),
never other owners, system scopes or users; administrators reach everything."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.api.conftest import Caller, in_days
from tests.helpers import MEMBER, OTHER

NEW = {"name": "New one", "expires_on": in_days(30), "services": ["jobs"]}
Call = Callable[[Caller, str, str], object]

OPERATIONS: dict[str, Call] = {
    "list own clients": lambda c, cid, owner: c.get("/clients"),
    "list one owner's clients": lambda c, cid, owner: c.get("/clients", owner=owner),
    "create for the owner": lambda c, cid, owner: c.post("/clients", {**NEW, "owner": owner}),
    "create with manage": lambda c, cid, owner: c.post(
        "/clients", {**NEW, "owner": owner, "services": ["manage"]}
    ),
    "read": lambda c, cid, owner: c.get(f"/clients/{cid}"),
    "edit": lambda c, cid, owner: c.patch(f"/clients/{cid}", {"description": "edited"}),
    "rotate": lambda c, cid, owner: c.post(f"/clients/{cid}/rotate-secret"),
    "revoke": lambda c, cid, owner: c.post(f"/clients/{cid}/revoke"),
    "list users": lambda c, cid, owner: c.get("/users"),
    "add a user": lambda c, cid, owner: c.post("/users", {"email": "n@example.com", "name": "N"}),
    "read the catalogue": lambda c, cid, owner: c.get("/services"),
    "read the audit log": lambda c, cid, owner: c.get("/audit-events"),
}
# (operation, member on their own, member on another's, admin on another's)
MATRIX = [
    ("list own clients", 200, 200, 200),
    ("list one owner's clients", 200, 403, 200),
    ("create for the owner", 201, 403, 201),
    ("create with manage", 403, 403, 201),
    ("read", 200, 404, 200),
    ("edit", 200, 404, 200),
    ("rotate", 200, 404, 200),
    ("revoke", 200, 404, 200),
    ("list users", 403, 403, 200),
    ("add a user", 403, 403, 201),
    ("read the catalogue", 200, 200, 200),
    ("read the audit log", 200, 200, 200),
]
CASES = [
    pytest.param(op, who, whose, status, id=f"{op}-{who}-{whose}")
    for op, own, members_other, admins_other in MATRIX
    for who, whose, status in [
        ("member", "own", own),
        ("member", "other's", members_other),
        ("admin", "other's", admins_other),
    ]
]


@pytest.mark.parametrize(("operation", "who", "whose", "status"), CASES)
def test_matrix(admin, member, other, operation, who, whose, status):
    caller = member if who == "member" else admin
    target_owner = MEMBER if whose == "own" else OTHER
    client_id = (member if whose == "own" else other).create(name="Target")["client_id"]
    response = OPERATIONS[operation](caller, client_id, target_owner)
    assert response.status_code == status, response.get_data(as_text=True)
    if whose == "other's" and status == 404:  # nothing happened to it
        shown = other.get(f"/clients/{client_id}").json
        assert shown["status"] == "active" and shown["description"] == ""

"""``/api/v1/users``: administrators list and add people; members are refused."""

from __future__ import annotations

from app.services import users
from tests.api.conftest import assert_api_error
from tests.helpers import ADMIN, MEMBER, OTHER


def test_admin_lists_users_by_email_in_pages(admin):
    listed = admin.get("/users").json
    assert [u["email"] for u in listed["items"]] == [ADMIN, OTHER, MEMBER]
    assert listed["items"][2]["services"] == ["candidates", "jobs"]
    assert all(
        set(u) == {"email", "name", "role", "active", "services", "created_at"}
        for u in listed["items"]
    )
    page = admin.get("/users", per_page=2, page=2).json
    assert [u["email"] for u in page["items"]] == [MEMBER] and page["next_page"] is None


def test_admin_adds_a_member_who_can_then_sign_in(app, admin):
    response = admin.post(
        "/users",
        {
            "email": "New@Example.com",
            "name": "New Rep",
            "services": ["jobs"],
            "password": "a long new password",
        },
    )
    assert response.status_code == 201, response.json
    assert response.json["email"] == "new@example.com" and response.json["role"] == "member"
    assert "password" not in response.get_data(as_text=True)
    with app.app_context():
        assert users.authenticate("new@example.com", "a long new password") is not None


def test_a_duplicate_email_is_409(admin):
    body = assert_api_error(admin.post("/users", {"email": MEMBER.upper(), "name": "Again"}), 409)
    assert set(body["fields"]) == {"email"}


def test_members_may_neither_list_nor_add_users(member):
    assert_api_error(member.get("/users"), 403, "forbidden")
    assert_api_error(member.post("/users", {"email": "x@example.com", "name": "X"}), 403)


def test_a_refused_member_adds_nobody(member, admin):
    member.post("/users", {"email": "x@example.com", "name": "X"})
    assert "x@example.com" not in {u["email"] for u in admin.get("/users").json["items"]}

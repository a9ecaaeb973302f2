"""Users (administrators only): list, add, set a password, deactivate."""

from __future__ import annotations

import re

import pytest

from app.services import users
from tests.console.conftest import Console
from tests.helpers import ADMIN, MEMBER, OTHER


def user_id(app, email: str) -> int:
    with app.app_context():
        return users.get_by_email(email).id


@pytest.mark.parametrize("path", ["/users", "/users/new", "/users/1", "/users/1/deactivate"])
def test_members_cannot_open_user_pages(as_member, path):
    response = as_member.get(path)
    assert response.status_code == 403
    assert "Only administrators can open this page." in response.get_data(as_text=True)


def test_members_cannot_post_to_user_pages(as_member, app):
    target = user_id(app, OTHER)
    response = as_member.post(f"/users/{target}/deactivate")
    assert response.status_code == 403
    response = as_member.post("/users/new", {"name": "X", "email": "x@example.com"})
    assert response.status_code == 403
    assert as_member.get("/tokens").status_code == 200  # still signed in, still active


def test_members_do_not_see_the_users_link(as_member, as_admin_client):
    assert 'href="/users"' not in as_member.page("/tokens")
    assert 'href="/users"' in as_admin_client.page("/tokens")


@pytest.fixture
def as_admin_client(app, people) -> Console:
    console = Console(app.test_client())
    console.login(ADMIN)
    return console


def test_admin_lists_users(as_admin):
    html = as_admin.page("/users")
    for email in (ADMIN, MEMBER, OTHER):
        assert email in html
    assert '<code class="scope">candidates</code>' in html


def test_admin_adds_a_member_who_can_sign_in(as_admin, app):
    html = as_admin.page("/users/new")
    assert 'for="services-master-list"' in html and "introspect" not in html
    data = {
        "name": "New Rep",
        "email": "New@Example.com",
        "role": "member",
        "services": ["jobs"],
        "password": "a long enough password",
    }
    response = as_admin.post("/users/new", data)
    assert response.status_code == 302
    assert "New Rep can now sign in as new@example.com." in as_admin.page(
        response.headers["Location"]
    )
    Console(app.test_client()).login("new@example.com", "a long enough password")


@pytest.mark.parametrize(
    "change, field, message",
    [
        ({"email": "not-an-email"}, "email", "is not a valid email address"),
        ({"email": MEMBER}, "email", f"a user with email {MEMBER} already exists"),
        ({"password": "short"}, "password", "password must be at least 12 characters"),
        ({"name": ""}, "name", "Enter the person&#39;s name."),
        ({"role": "owner"}, "role", "Not a valid choice"),
    ],
)
def test_adding_a_user_names_what_is_wrong(as_admin, change, field, message):
    data = {"name": "New Rep", "email": "new@example.com", "role": "member", "password": ""}
    data.update(change)
    response = as_admin.post("/users/new", data)
    html = response.get_data(as_text=True)
    assert response.status_code in (400, 409)
    assert f'id="{field}-error"' in html and message in html


def test_set_password(as_admin, app):
    target = user_id(app, MEMBER)
    short = as_admin.post(f"/users/{target}/password", {"password": "short"})
    assert short.status_code == 400
    assert "password must be at least 12 characters" in short.get_data(as_text=True)
    response = as_admin.post(f"/users/{target}/password", {"password": "brand new password"})
    assert response.status_code == 302
    Console(app.test_client()).login(MEMBER, "brand new password")


def test_deactivation_says_how_many_tokens_then_revokes_them(as_admin, app, factory, http):
    creds = [factory.client(owner=MEMBER, name=f"t{n}", scopes=["jobs"]) for n in range(3)]
    as_admin.post(f"/tokens/{creds[2].client_id}/revoke")
    target = user_id(app, MEMBER)
    confirm = as_admin.page(f"/users/{target}/deactivate")
    assert "2 active tokens will be revoked" in confirm
    assert "Deactivate and revoke 2 tokens" in confirm
    response = as_admin.post(f"/users/{target}/deactivate")
    assert response.status_code == 302
    page = as_admin.page(response.headers["Location"])
    assert f"{MEMBER} is deactivated; 2 tokens revoked." in page and "deactivated" in page
    for cred in creds:
        answer = http.post("/token", data={"grant_type": "client_credentials"}, headers=cred.basic)
        assert answer.status_code == 401
    inactive = as_admin.page(f"/tokens?status=inactive&owner={MEMBER}")
    assert len(re.findall("badge-revoked", inactive)) == 3
    assert MEMBER not in as_admin.page("/tokens/new")  # no longer an owner to pick


def test_deactivating_someone_without_tokens(as_admin, app):
    target = user_id(app, OTHER)
    assert "They have no active tokens" in as_admin.page(f"/users/{target}/deactivate")
    assert as_admin.post(f"/users/{target}/deactivate").status_code == 302


def test_admin_cannot_deactivate_themselves(as_admin, app):
    me = user_id(app, ADMIN)
    assert "Deactivate Admin…" not in as_admin.page(f"/users/{me}")
    response = as_admin.post(f"/users/{me}/deactivate")
    assert response.status_code == 403
    assert "you cannot deactivate your own account" in response.get_data(as_text=True)
    assert as_admin.get("/tokens").status_code == 200


def test_unknown_user_is_404(as_admin):
    assert as_admin.get("/users/999999").status_code == 404

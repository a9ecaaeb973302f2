"""The token list, a token's page, editing and revoking; members see only their own."""

from __future__ import annotations

import re

import pytest

from app.mail import worker
from tests.helpers import ADMIN, MEMBER, OTHER

ROW_LINK = re.compile(r'<td data-label="Name"><a href="/tokens/([^"]+)">([^<]*)</a>')


def listed(html: str) -> list[str]:
    """Names of the tokens in a list page, in order."""
    return [name for _, name in ROW_LINK.findall(html)]


@pytest.fixture
def tokens(factory, people) -> dict[str, str]:
    """Client IDs by name: two of the member's (one revoked), one of another member's."""
    made = {
        "Payroll": factory.client(owner=MEMBER, name="Payroll", scopes=["jobs"]).client_id,
        "Reports": factory.client(owner=MEMBER, name="Reports", scopes=["candidates"]).client_id,
        "Theirs": factory.client(owner=OTHER, name="Theirs", scopes=["jobs"]).client_id,
    }
    return made


def test_admin_sees_everyone_s_active_tokens_with_owner_column(as_admin, tokens):
    html = as_admin.page("/tokens")
    assert sorted(listed(html)) == ["Payroll", "Reports", "Theirs"]
    assert '<th scope="col">Owner</th>' in html and OTHER in html
    assert '<a href="/tokens?status=active" aria-current="page">Active</a>' in html


def test_member_sees_only_their_own(as_member, tokens):
    html = as_member.page("/")
    assert sorted(listed(html)) == ["Payroll", "Reports"]
    assert "Theirs" not in html and 'name="owner"' not in html


def test_member_cannot_filter_by_another_owner(as_member, tokens):
    assert sorted(listed(as_member.page(f"/tokens?owner={OTHER}"))) == ["Payroll", "Reports"]


def test_admin_filters_by_owner_and_searches_name_or_description(as_admin, tokens, factory):
    factory.client(owner=OTHER, name="Nightly", scopes=["jobs"])
    assert sorted(listed(as_admin.page(f"/tokens?owner={OTHER}"))) == ["Nightly", "Theirs"]
    assert listed(as_admin.page("/tokens?q=PAY")) == ["Payroll"]
    assert listed(as_admin.page(f"/tokens?q=night&owner={OTHER}")) == ["Nightly"]
    assert listed(as_admin.page(f"/tokens?q=night&owner={MEMBER}")) == []
    assert "No active token matches these filters." in as_admin.page("/tokens?q=zzz")
    assert "no user with email nobody@example.com" in as_admin.page(
        "/tokens?owner=nobody@example.com"
    )


def test_search_treats_percent_and_underscore_literally(as_admin, factory, people):
    factory.client(owner=MEMBER, name="100% sync", scopes=["jobs"])
    factory.client(owner=MEMBER, name="1000 sync", scopes=["jobs"])
    assert listed(as_admin.page("/tokens?q=100%25")) == ["100% sync"]


def test_inactive_tab_lists_revoked_and_expired(as_admin, tokens, app):
    as_admin.post(f"/tokens/{tokens['Reports']}/revoke")
    html = as_admin.page("/tokens?status=inactive")
    assert listed(html) == ["Reports"]
    assert '<span class="badge badge-revoked">revoked</span>' in html
    assert "Reports" not in listed(as_admin.page("/tokens?status=active"))


def test_pagination_splits_long_lists(as_member, factory):
    for number in range(23):
        factory.client(owner=MEMBER, name=f"token {number:02d}", scopes=["jobs"])
    first = as_member.page("/tokens")
    assert len(listed(first)) == 20 and "Page 1 of 2 (23 tokens)" in first
    assert 'href="/tokens?page=2" rel="next"' in first
    second = as_member.page("/tokens?page=2")
    assert listed(second) == ["token 02", "token 01", "token 00"]
    assert listed(as_member.page("/tokens?page=99")) == listed(second)
    assert len(listed(as_member.page("/tokens?page=nonsense"))) == 20


def test_token_page_shows_details(as_member, tokens):
    html = as_member.page(f"/tokens/{tokens['Payroll']}")
    for text in (
        tokens["Payroll"],
        "Payroll",
        MEMBER,
        "Job API",
        "<code>jobs</code>",
        "by cli",
        "Last used</dt><dd>never",
        "Revoke token…",
        "Rotate secret…",
    ):
        assert text in html, text


@pytest.mark.parametrize(
    "method, suffix",
    [
        ("get", ""),
        ("post", ""),
        ("get", "/revoke"),
        ("post", "/revoke"),
        ("get", "/rotate"),
        ("post", "/rotate"),
        ("get", "/secret"),
    ],
)
def test_member_gets_404_for_another_member_s_token(as_member, tokens, app, method, suffix):
    url = f"/tokens/{tokens['Theirs']}{suffix}"
    response = as_member.get(url) if method == "get" else as_member.post(url, {"name": "x"})
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "Not found" in html and "Theirs" not in html
    assert response.mimetype == "text/html"


def test_member_cannot_revoke_another_member_s_token(as_member, as_admin_too, tokens):
    as_member.post(f"/tokens/{tokens['Theirs']}/revoke")
    assert "badge-active" in as_admin_too.page(f"/tokens/{tokens['Theirs']}")


@pytest.fixture
def as_admin_too(app, people):
    from tests.console.conftest import Console

    console = Console(app.test_client())
    console.login(ADMIN)
    return console


def test_unknown_token_is_404(as_admin):
    assert as_admin.get("/tokens/does-not-exist").status_code == 404


def test_editing_name_description_and_services(as_member, tokens, http):
    url = f"/tokens/{tokens['Payroll']}"
    data = {"name": "Payroll v2", "description": "new words", "services": ["jobs", "candidates"]}
    response = as_member.post(url, data)
    assert response.status_code == 302 and response.headers["Location"] == url
    html = as_member.page(url)
    assert "Payroll v2" in html and "new words" in html and "Candidate API" in html
    assert "Your changes are saved." in html


def test_editing_validation_messages(as_member, tokens):
    url = f"/tokens/{tokens['Payroll']}"
    response = as_member.post(url, {"name": "reports", "services": ["jobs"]})
    assert response.status_code == 409
    assert "already has an active token named" in response.get_data(as_text=True)
    response = as_member.post(url, {"name": "Payroll", "services": []})
    assert response.status_code == 400
    assert "Choose at least one service." in response.get_data(as_text=True)
    response = as_member.post(url, {"name": "Payroll", "services": ["manage"]})
    assert response.status_code == 400
    assert "not a valid choice" in response.get_data(as_text=True)
    response = as_member.post(url, {"name": "x" * 101, "services": ["jobs"]})
    assert "Use at most 100 characters." in response.get_data(as_text=True)


def test_admin_can_grant_system_scopes_when_editing(as_admin, tokens):
    url = f"/tokens/{tokens['Payroll']}"
    assert (
        as_admin.post(url, {"name": "Payroll", "services": ["jobs", "introspect"]}).status_code
        == 302
    )
    assert "<code>introspect</code>" in as_admin.page(url)


def test_revoke_asks_first_then_shows_who_and_when(as_member, tokens, http, factory):
    url = f"/tokens/{tokens['Payroll']}"
    confirm = as_member.page(f"{url}/revoke")
    assert "This cannot be undone." in confirm and "Yes, revoke this token" in confirm
    assert "badge-active" in as_member.page(url)  # asking changed nothing
    response = as_member.post(f"{url}/revoke")
    assert response.status_code == 302 and response.headers["Location"] == url
    html = as_member.page(url)
    assert "badge-revoked" in html and f"by {MEMBER}" in html and "Revoked on" in html
    assert "Save changes" not in html and "Rotate secret" not in html
    again = as_member.post(f"{url}/revoke", follow_redirects=True).get_data(as_text=True)
    assert "This token was already revoked." in again


def test_a_revoked_token_refuses_edits(as_member, tokens):
    url = f"/tokens/{tokens['Payroll']}"
    as_member.post(f"{url}/revoke")
    response = as_member.post(url, {"name": "Back", "services": ["jobs"]})
    assert response.status_code == 409
    assert "is revoked and cannot be edited" in response.get_data(as_text=True)


def test_token_page_lists_the_notifications_sent_about_it(as_member, factory, people, app):
    """Issue 4: the token page shows the emails queued and sent about that token."""
    creds = factory.client(owner=MEMBER, name="Mailed", scopes=["jobs"])
    html = as_member.page(f"/tokens/{creds.client_id}")
    assert "Notifications" in html and "created" in html
    # queued: not "sent never"
    assert '<td data-label="Status">queued, not sent yet</td>' in html
    assert '<td data-label="Delivered">not yet</td>' in html
    assert creds.secret not in html
    with app.app_context():
        worker.run_once()  # no SMTP server in this configuration: an .eml file is written
    html = as_member.page(f"/tokens/{creds.client_id}")
    assert '<td data-label="Status">saved as .eml file, not emailed</td>' in html
    assert ">sent<" not in html and "not yet" not in html

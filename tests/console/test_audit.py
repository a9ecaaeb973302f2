"""The audit log page: administrators read everything, members what concerns them."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from app.services import audit
from app.services.actors import Actor
from app.services.transaction import transaction
from tests.helpers import ADMIN, MEMBER, OTHER


def rows(html: str) -> int:
    return html.count('data-label="When"')


def test_admin_reads_every_entry_with_actor_address_and_details(as_admin, factory):
    factory.client(owner=OTHER, name="Theirs", scopes=["jobs"])
    as_admin.generate(owner=MEMBER, services=["jobs"], name="Made in the console")
    html = as_admin.page("/audit")
    # actions and details in the console's words, not codes and "scopes"
    assert "Token generated" in html and "User added" in html and "client.create" not in html
    assert '<span class="k">services</span> jobs' in html and "scopes" not in html
    assert f'<td data-label="Who">{ADMIN}</td>' in html
    assert '<td data-label="From">127.0.0.1</td>' in html
    assert "Made in the console" in html and "Theirs" in html


def test_member_reads_only_their_own_and_what_was_done_to_their_tokens(
    as_member, as_admin, factory
):
    theirs = factory.client(owner=OTHER, name="Theirs", scopes=["jobs"])
    mine = factory.client(owner=MEMBER, name="Mine by cli", scopes=["jobs"])
    as_member.generate(services=["jobs"], name="Mine by me")
    html = as_member.page("/audit")
    assert "Mine by cli" in html and "Mine by me" in html
    assert theirs.client_id not in html and "Theirs" not in html and OTHER not in html
    assert mine.client_id in html


def test_filters_by_actor_target_and_day(as_admin, factory):
    first = factory.client(owner=MEMBER, name="First", scopes=["jobs"])
    as_admin.post(f"/tokens/{first.client_id}/revoke")
    by_admin = as_admin.page("/audit?actor=ADMIN@")
    assert "Token revoked" in by_admin and "Token generated" not in by_admin
    target = as_admin.page(f"/audit?target={first.client_id}")
    assert rows(target) == 2
    today = datetime.now(UTC).date()
    assert rows(as_admin.page(f"/audit?since={today}&until={today}")) >= 2
    tomorrow = today + timedelta(days=1)
    assert "No audit entries match." in as_admin.page(f"/audit?since={tomorrow}")
    assert "No audit entries match." in as_admin.page(f"/audit?until={today - timedelta(days=1)}")


def test_a_bad_day_is_named(as_admin):
    html = as_admin.page("/audit?since=2025-13-01")
    assert "&#39;2025-13-01&#39; is not a valid date (use YYYY-MM-DD)" in html


def test_the_widest_days_work(as_admin):
    html = as_admin.page("/audit?since=0001-01-01&until=9999-12-31")
    assert rows(html) >= 3  # the three people of the fixture


def test_members_filter_inside_their_own_entries(as_member, factory):
    theirs = factory.client(owner=OTHER, name="Theirs", scopes=["jobs"])
    assert "No audit entries match." in as_member.page(f"/audit?target={theirs.client_id}")


def _many_entries(app, count: int = 60) -> None:
    """More entries than one page holds, so the page shows its Previous/Next links."""
    with app.app_context(), transaction():
        for number in range(count):
            audit.record(Actor.cli(), "test.entry", f"target-{number}")


# url_for's reserved arguments (RFC 3986 §3.5 fragment, absolute URLs from the Host header,
# the build method) are never taken from the query string: page links keep it as data
@pytest.mark.parametrize(
    "query",
    [
        "_method=POST",
        "_external=1",
        "_anchor=injected",
        "_scheme=https",
        "_external=1&_scheme=javascript",
        "page=1&_method=DELETE&_anchor=x",
    ],
)
def test_page_links_never_hand_query_arguments_to_url_for(app, as_admin, query):
    _many_entries(app)
    response = as_admin.get(f"/audit?{query}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html[:2000]
    links = re.findall(r'<a href="([^"]*)" rel="(?:prev|next)"', html)
    assert links, "no page links"
    for link in links:
        assert link.startswith("/audit?"), link  # relative: never built from the Host header
        assert "#" not in link and "://" not in link, link
        assert "page=" in link


def test_page_links_keep_the_filters(app, as_admin):
    _many_entries(app)
    html = as_admin.page("/audit?actor=cli&page=1")
    [link] = re.findall(r'<a href="([^"]*)" rel="next"', html)
    assert link == "/audit?actor=cli&amp;page=2"

"""The admin's home page: charts of the recorded counters, drawn as inline SVG by Gatehouse,
and the clients about to expire; members' home is their token list."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from app.models.types import utcnow
from app.services import metric_history
from tests.helpers import MEMBER, OTHER


def _record_two_hours(app) -> None:
    """An instance that issued 40 tokens and refused 7 clients over the last two hours."""
    now = utcnow()
    run = now - timedelta(hours=30)  # its first sample in the window is a baseline
    with app.app_context():
        for minutes, values in (
            (120, {"tokens": 10, "failures.unknown_or_wrong": 1}),
            (61, {"tokens": 30, "failures.unknown_or_wrong": 4}),
            (1, {"tokens": 50, "failures.unknown_or_wrong": 6, "failures.expired": 2}),
        ):
            metric_history.record(
                "host/127.0.0.1_8000", run, now - timedelta(minutes=minutes), values
            )


def _bars(svg: str) -> list[tuple[str, float, str]]:
    return [
        (css, float(height), title)
        for css, height, title in re.findall(
            r'<rect class="(series-\d)" x="[\d.]+" y="[\d.]+" width="[\d.]+" '
            r'height="([\d.]+)"><title>([^<]+)</title>',
            svg,
        )
    ]


def test_admin_home_charts_tokens_and_failures_per_hour(app, as_admin):
    _record_two_hours(app)
    html = as_admin.page("/")
    assert "<h1>Dashboard</h1>" in html
    tokens_svg, failures_svg = re.findall(r"<svg class=\"chart\".*?</svg>", html, re.S)
    tokens = _bars(tokens_svg)
    assert sum(int(title.split(": ")[1].split()[0]) for _, _, title in tokens) == 40
    failures = _bars(failures_svg)
    by_reason: dict[str, int] = {}
    for _, _, title in failures:
        count, reason = title.split(": ")[1].split()
        by_reason[reason] = by_reason.get(reason, 0) + int(count)
    assert by_reason == {"unknown_or_wrong": 5, "expired": 2}
    assert "40</span> access tokens issued" in html
    assert "7</span> failed client authentications" in html
    # the legend names each reason with its colour class, as the bars use them
    assert re.search(r'<span class="swatch (series-\d)"></span> expired', html)


def test_charts_use_no_inline_style_script_or_external_asset(app, as_admin):
    _record_two_hours(app)
    html = as_admin.page("/")
    assert " style=" not in html and "<style" not in html
    assert "<script>" not in html and "<script " not in html.replace(
        '<script src="/static/console.js" defer></script>', ""
    )
    assert "http://" not in html.replace("http://127.0.0.1:8000", "")
    assert "https://" not in html


def test_without_history_the_dashboard_says_so(as_admin):
    html = as_admin.page("/")
    assert "No history yet." in html
    assert html.count('<svg class="chart"') == 2  # empty charts still drawn


def test_clients_expiring_within_14_days_are_listed_with_links(factory, as_admin):
    today = datetime.now(UTC).date()
    soon = factory.client(owner=MEMBER, name="Soon", expires_on=today)
    later = factory.client(owner=OTHER, name="Later", expires_on=today + timedelta(days=14))
    factory.client(owner=MEMBER, name="Far", expires_on=today + timedelta(days=15))
    html = as_admin.page("/")
    section = html.split('id="expiring"')[1]
    assert f'href="/tokens/{soon.client_id}">Soon</a>' in section
    assert f'href="/tokens/{later.client_id}">Later</a>' in section
    assert "Far" not in section
    assert section.index("Soon") < section.index("Later")
    assert "last day today" in section
    assert re.search(r'stat-value">1</span> <a href="#expiring">expiring within 7 days', html)


def test_members_home_is_their_token_list(app, as_member):
    _record_two_hours(app)
    html = as_member.page("/")
    assert "My tokens" in html and "Dashboard" not in html and "<svg" not in html


def test_the_first_visit_is_not_greeted_with_a_demand(console):
    response = console.get("/")
    assert response.headers["Location"].startswith("/login")
    html = console.page(response.headers["Location"])
    assert "Sign in to continue" not in html and "flash" not in html
    assert "<h1>Sign in</h1>" in html


def test_the_favicon_is_served_and_linked(console):
    with console.get("/favicon.ico") as icon:
        assert icon.status_code == 200
        assert icon.mimetype in ("image/vnd.microsoft.icon", "image/x-icon")
        assert icon.data[:4] == b"\x00\x00\x01\x00"  # an ICO file
    assert '<link rel="icon" href="/static/favicon.svg"' in console.page("/login")
    with console.get("/static/favicon.svg") as svg:
        assert svg.status_code == 200

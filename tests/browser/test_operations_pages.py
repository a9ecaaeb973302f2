"""The dashboard and the mended console pages in a real browser, at desktop and phone width."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from app.models.types import utcnow
from app.services import metric_history
from tests.browser.conftest import PASSWORD, shot, sign_in

ADMIN = "admin@example.com"
MEMBER = "rep@example.com"
PHONE = {"width": 375, "height": 812}
sync_api = __import__("playwright.sync_api", fromlist=["expect"])
expect = sync_api.expect


def _people(factory) -> None:
    factory.user(ADMIN, role="admin", services=[], password=PASSWORD)
    factory.user(MEMBER, services=["jobs", "candidates", "contacts"], password=PASSWORD)


def _a_day_of_traffic(factory) -> None:
    """What a served instance records over a day: more tokens in office hours, a burst of
    wrong secrets at night, a few other failures."""
    now = utcnow()
    run = now - timedelta(hours=30)
    totals = {"tokens": 0.0} | {f"failures.{r}": 0.0 for r in ("unknown_or_wrong", "expired")}
    with factory.app.app_context():
        for step in range(26 * 4, -1, -1):
            moment = now - timedelta(minutes=15 * step)
            totals["tokens"] += 300 if 8 <= moment.hour < 18 else 120
            totals["failures.unknown_or_wrong"] += 40 if moment.hour == 3 else step % 3
            totals["failures.expired"] += 1 if step % 7 == 0 else 0
            metric_history.record("demo/127.0.0.1_8000", run, moment, dict(totals))


def _fits(page, width: int) -> None:
    """Nothing makes the page scroll sideways."""
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_admin_dashboard_on_a_desktop_and_a_phone(page, factory):
    _people(factory)
    _a_day_of_traffic(factory)
    today = datetime.now(UTC).date()
    soon = factory.client(owner=MEMBER, name="Payroll sync", expires_on=today + timedelta(days=2))
    factory.client(owner=MEMBER, name="Reporting job", expires_on=today + timedelta(days=9))
    factory.client(owner=MEMBER, name="Nightly export", expires_on=today + timedelta(days=60))
    missing: list[str] = []
    page.on("response", lambda r: missing.append(r.url) if r.status == 404 else None)

    sign_in(page, ADMIN)
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    expect(page.locator("svg.chart")).to_have_count(2)
    expect(page.locator("svg.chart").first.locator("rect")).not_to_have_count(0)
    expect(page.locator("ul.legend")).to_contain_text("unknown_or_wrong")
    expiring = page.locator("#expiring tbody tr")
    expect(expiring).to_have_count(2)
    expect(expiring.first).to_contain_text("Payroll sync")
    shot(page, "dashboard")

    page.get_by_text("The numbers, hour by hour").click()
    expect(page.locator("table.numbers tbody tr")).to_have_count(24)

    page.set_viewport_size(PHONE)
    page.reload()
    _fits(page, PHONE["width"])
    shot(page, "dashboard-phone")
    page.get_by_role("link", name="Payroll sync").click()
    expect(page).to_have_url(re.compile(f"/tokens/{soon.client_id}$"))
    assert missing == []  # the favicon among them


def test_a_token_page_fits_a_phone(page, server, factory):
    _people(factory)
    factory.client(owner=MEMBER, name="Mailed about", scopes=["jobs", "candidates"])
    page.set_viewport_size(PHONE)
    sign_in(page, MEMBER)
    page.get_by_role("link", name="Mailed about").click()
    expect(page.get_by_role("heading", name="Notifications")).to_be_visible()
    expect(page.get_by_text("queued, not sent yet")).to_be_visible()
    _fits(page, PHONE["width"])
    shot(page, "token-phone")


def test_short_service_boxes_keep_their_height_and_system_scopes_say_it_once(page, factory):
    _people(factory)
    sign_in(page, ADMIN)
    page.goto("/tokens/new")
    job = page.locator("li[data-service]", has_text="Job API").bounding_box()
    system = page.locator("li[data-service]", has_text="Token introspection").bounding_box()
    assert job and system and job["height"] < 50 < system["height"]
    label = page.locator("label[for=services-introspect]").inner_text().splitlines()
    # a name, the key once, then what it allows: not "System: introspect introspect"
    assert label == [
        "Token introspection introspect",
        "System scope: may call /introspect and read /revocations",
    ]
    assert "System: introspect" not in page.content()


def test_the_expiry_is_typed_as_yyyy_mm_dd_whatever_the_browser_locale(browser, server, factory):
    _people(factory)
    context = browser.new_context(base_url=server.url, locale="en-US")
    try:
        page = context.new_page()
        sign_in(page, ADMIN)
        page.goto("/tokens/new")
        expiry = page.get_by_label("Expires on")
        assert expiry.get_attribute("type") == "text"
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", expiry.input_value())
        wanted = (datetime.now(UTC).date() + timedelta(days=45)).isoformat()
        expiry.fill(wanted)
        page.get_by_label("Name").fill("Typed date")
        page.get_by_label("Job API jobs").check()
        page.get_by_role("button", name="Generate token").click()
        page.get_by_role("link", name="I have stored the secret, continue").click()
        expect(page.locator("dl.details")).to_contain_text(f"{wanted} (end of day, UTC)")
    finally:
        context.close()

"""The console in a real browser: what an administrator and a member do with it."""

from __future__ import annotations

import re
import time

from tests.browser.conftest import PASSWORD, shot, sign_in

ADMIN = "admin@example.com"
MEMBER = "rep@example.com"
OTHER = "other@example.com"
sync_api = __import__("playwright.sync_api", fromlist=["expect"])
expect = sync_api.expect


def _people(factory) -> None:
    factory.user(ADMIN, role="admin", services=[], password=PASSWORD)
    factory.user(MEMBER, services=["jobs", "candidates", "contacts"], password=PASSWORD)
    factory.user(OTHER, services=["jobs"], password=PASSWORD)


def _refused_within_a_second(server, client_id: str, secret: str) -> None:
    deadline = time.monotonic() + 2
    while True:
        answer = server.token(client_id, secret)
        if answer.status_code == 401 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert answer.status_code == 401 and answer.json()["error"] == "invalid_client"


def test_admin_generates_for_a_member_uses_and_revokes(page, server, factory, watch):
    _people(factory)
    factory.client(owner=OTHER, name="Nightly export", scopes=["jobs"])
    page.goto("/login")
    shot(page, "login")
    sign_in(page, ADMIN)

    page.get_by_role("link", name="Generate token").first.click()
    page.get_by_label("Owner", exact=True).select_option(MEMBER)
    page.get_by_label("Name").fill("Payroll sync")
    page.get_by_label("Description").fill("Nightly payroll export to Acme HR")
    expiry = page.get_by_label("Expires on")
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", expiry.input_value())
    services = page.get_by_label("Filter services")
    services.fill("cand")
    expect(page.get_by_label("Candidate API candidates")).to_be_visible()
    expect(page.get_by_label("Job API jobs")).to_be_hidden()
    expect(page.get_by_text("1 of 8 services shown")).to_be_visible()
    page.get_by_label("Candidate API candidates").check()
    services.fill("job")
    page.get_by_role("button", name="Select all shown").click()
    services.fill("")
    expect(page.get_by_label("Job API jobs")).to_be_checked()
    expect(page.get_by_label("Contact API contacts")).not_to_be_checked()
    shot(page, "generate")
    page.get_by_role("button", name="Generate token").click()

    expect(page.get_by_text("You will not see it again.")).to_be_visible()
    client_id = page.locator("#client-id").inner_text().strip()
    secret = page.locator("#client-secret").inner_text().strip()
    assert secret.startswith("gts_")
    page.get_by_role("button", name="Copy secret").click()
    expect(page.get_by_text("Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == secret
    shot(page, "secret")
    answer = server.token(client_id, secret)
    assert answer.status_code == 200, answer.text
    assert answer.json()["scope"] == "candidates jobs"

    page.reload()
    expect(page.get_by_role("heading", name="This secret is no longer shown")).to_be_visible()
    assert secret not in page.content()

    page.get_by_role("link", name="Tokens", exact=True).click()
    page.get_by_label("Owner", exact=True).select_option(MEMBER)
    page.get_by_role("button", name="Apply").click()
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Payroll sync")
    expect(rows.first).to_contain_text(MEMBER)
    page.get_by_label("Owner", exact=True).select_option("")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("tbody tr")).to_have_count(2)
    shot(page, "tokens")

    page.get_by_role("link", name="Payroll sync").click()
    expect(page.get_by_role("heading", name="Payroll sync")).to_be_visible()
    shot(page, "token")
    page.get_by_role("link", name="Revoke token…").click()
    expect(page.get_by_text("This cannot be undone.")).to_be_visible()
    page.get_by_role("button", name="Yes, revoke this token").click()
    expect(page.get_by_text(re.compile(f"Revoked on .* by {ADMIN}"))).to_be_visible()
    _refused_within_a_second(server, client_id, secret)

    page.get_by_role("link", name="← Tokens").click()
    page.get_by_role("link", name="Inactive (expired or revoked)").click()
    row = page.locator("tbody tr", has_text="Payroll sync")
    expect(row).to_contain_text("revoked")

    page.get_by_role("link", name="Users").click()
    expect(page.get_by_role("cell", name=MEMBER)).to_be_visible()
    shot(page, "users")
    page.get_by_role("link", name="Audit log").click()
    expect(page.get_by_role("cell", name="Token revoked")).to_be_visible()
    shot(page, "audit")
    page.set_viewport_size({"width": 390, "height": 844})
    page.get_by_role("link", name="Tokens", exact=True).click()
    shot(page, "tokens-phone")
    assert watch.dialogs == []


def test_member_sees_only_own_tokens_and_own_services(page, server, factory):
    _people(factory)
    factory.client(owner=MEMBER, name="Reporting job", scopes=["jobs"])
    theirs = factory.client(owner=OTHER, name="Someone else's", scopes=["jobs"])
    sign_in(page, MEMBER)
    expect(page.get_by_role("heading", name="My tokens")).to_be_visible()
    expect(page.locator("tbody tr")).to_have_count(1)
    expect(page.locator("tbody")).to_contain_text("Reporting job")
    expect(page.get_by_label("Owner", exact=True)).to_have_count(0)
    expect(page.get_by_role("link", name="Users")).to_have_count(0)

    response = page.goto(f"/tokens/{theirs.client_id}")
    assert response.status == 404
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    assert "Someone else" not in page.content()
    assert page.goto("/users").status == 403

    page.goto("/tokens/new")
    expect(page.get_by_label("Owner", exact=True)).to_have_count(0)
    boxes = page.locator("input[name=services]")
    expect(boxes).to_have_count(3)
    expect(page.get_by_label("Token introspection")).to_have_count(0)
    page.get_by_label("Name").fill("Self service")
    page.get_by_role("button", name="Select all shown").click()
    page.get_by_role("button", name="Generate token").click()
    client_id = page.locator("#client-id").inner_text().strip()
    secret = page.locator("#client-secret").inner_text().strip()
    assert server.token(client_id, secret).json()["scope"] == "candidates contacts jobs"
    page.go_back()
    page.go_forward()
    assert secret not in page.content()


def test_script_in_a_token_name_is_shown_as_text_and_never_runs(page, server, factory, watch):
    _people(factory)
    name = "<img src=x onerror=alert(1)>"
    description = "<script>alert(2)</script>"
    sign_in(page, MEMBER)
    page.goto("/tokens/new")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Description").fill(description)
    page.get_by_label("Job API jobs").check()
    page.get_by_role("button", name="Generate token").click()
    expect(page.get_by_role("heading", name=f"Token generated: {name}")).to_be_visible()
    page.get_by_role("link", name="I have stored the secret, continue").click()
    expect(page.get_by_role("heading", name=name)).to_be_visible()
    expect(page.locator("dd.prewrap")).to_have_text(description)
    expect(page.get_by_label("Description")).to_have_value(description)
    page.goto("/tokens")
    expect(page.get_by_role("link", name=name)).to_be_visible()
    page.goto("/audit")
    expect(page.locator("main")).to_contain_text(name)
    assert page.locator("main img").count() == 0
    assert page.locator("main script").count() == 0
    assert watch.dialogs == []


def test_member_makes_a_key_client_bound_to_a_network(page, server, factory, tmp_path):
    """The wizard's public-key box and networks field, the page that says there is no secret,
    and the token page where the keys are replaced (desktop, then a 375 px phone)."""
    from tests.assertions import public_pem, session_key

    _people(factory)
    sign_in(page, MEMBER)
    page.get_by_role("link", name="Generate token").first.click()
    page.get_by_label("Name").fill("Ledger sync")
    page.get_by_label("Job API jobs").check()
    page.get_by_label("Public key (optional)").fill(public_pem(session_key("ec")))
    page.get_by_label("Allowed networks").fill("192.0.2.0/24, 2001:db8::/32")
    shot(page, "generate-key")
    page.set_viewport_size({"width": 375, "height": 800})
    shot(page, "generate-key-phone")
    page.get_by_role("button", name="Generate token").click()

    expect(page.get_by_text("This token has no secret.")).to_be_visible()
    assert "gts_" not in page.content()
    shot(page, "key-client-created-phone")
    page.set_viewport_size({"width": 1280, "height": 860})
    shot(page, "key-client-created")
    page.get_by_role("link", name="Continue to the token").click()
    expect(page.get_by_text("a private key (private_key_jwt)")).to_be_visible()
    expect(page.get_by_text("192.0.2.0/24", exact=True)).to_be_visible()
    page.get_by_label("New public keys").fill("not a key")
    page.get_by_role("button", name="Replace keys").click()
    expect(page.get_by_text("not a JWK Set nor a PEM public key")).to_be_visible()
    page.get_by_label("New public keys").fill(public_pem(session_key("ed")))
    page.get_by_role("button", name="Replace keys").click()
    expect(page.get_by_text("The public keys are replaced")).to_be_visible()
    shot(page, "key-client")
    page.set_viewport_size({"width": 375, "height": 800})
    shot(page, "key-client-phone")


def test_a_token_page_says_where_it_was_used_and_whether_the_old_secret_still_is(
    page, server, factory, app
):
    from app.services import clients
    from app.services.actors import Actor

    _people(factory)
    creds = factory.client(owner=MEMBER, name="Payroll sync", scopes=["jobs"])
    assert server.token(creds.client_id, creds.secret).status_code == 200
    with app.app_context():
        clients.rotate_secret(Actor.cli(), creds.client_id, grace_seconds=86400)
    time.sleep(1.1)  # every worker sees a change within a second (until then the old
    # secret is still the current one to them)
    assert server.token(creds.client_id, creds.secret).status_code == 200  # the old one, in grace
    sign_in(page, MEMBER)
    page.goto(f"/tokens/{creds.client_id}")
    expect(page.get_by_text("from 127.0.0.1")).to_be_visible()
    expect(page.get_by_text("it was last used just now")).to_be_visible()
    shot(page, "token-usage", full_page=False)
    page.set_viewport_size({"width": 375, "height": 800})
    shot(page, "token-usage-phone", full_page=False)

"""The generate wizard and the page that shows a new secret once."""

from __future__ import annotations

import re

from tests.console.conftest import in_days
from tests.helpers import ADMIN, MEMBER, OTHER

SECRET = re.compile(r"gts_[0-9A-Za-z]{49}")


def _secret_page(console, response) -> tuple[str, str]:
    assert response.status_code == 303, response.get_data(as_text=True)[:3000]
    location = response.headers["Location"]
    html = console.page(location)
    secret = SECRET.search(html)
    assert secret, html
    client_id = location.split("/")[2]
    return client_id, secret.group(0)


def test_admin_wizard_offers_owners_all_services_and_system_scopes(as_admin):
    html = as_admin.page("/tokens/new")
    assert 'id="owner" name="owner"' in html and '<label for="owner">' in html
    assert f'<option selected value="{ADMIN}">' in html
    for key in ("candidates", "master-list", "introspect", "manage"):
        assert f'id="services-{key}" value="{key}"' in html
        assert f'<label for="services-{key}">' in html
    assert f'value="{in_days(90)}"' in html  # default expiry: 90 days
    # a YYYY-MM-DD text box, not the browser's date picker (which follows the locale)
    assert 'type="date"' not in html and 'placeholder="YYYY-MM-DD"' in html
    assert f"at the latest {in_days(366)}" in html


def test_member_wizard_has_no_owner_picker_and_only_held_services(as_member):
    html = as_member.page("/tokens/new")
    assert 'name="owner"' not in html
    assert f"({MEMBER})" in html
    keys = set(re.findall(r'name="services" id="services-[^"]+" value="([^"]+)"', html))
    assert keys == {"jobs", "candidates"}


def test_generating_shows_the_secret_once_and_it_works(as_admin, http):
    response = as_admin.generate(owner=MEMBER, services=["jobs", "candidates"], name="Payroll")
    client_id, secret = _secret_page(as_admin, response)
    again = as_admin.get(f"/tokens/{client_id}/secret")
    assert again.status_code == 410
    body = again.get_data(as_text=True)
    assert secret not in body and "no longer shown" in body
    assert again.headers["Cache-Control"] == "no-store"
    token = http.post(
        "/token",
        data={"grant_type": "client_credentials"},
        auth=(client_id, secret),
    )
    assert token.status_code == 200, token.json
    assert token.json["scope"] == "candidates jobs"
    page = as_admin.page(f"/tokens/{client_id}")
    assert MEMBER in page and "Payroll" in page and secret not in page


def test_the_secret_is_not_in_the_cookie_in_clear(as_admin):
    response = as_admin.generate(owner=MEMBER, services=["jobs"])
    assert response.status_code == 303
    cookie = as_admin.http.get_cookie("gatehouse_session")
    _, secret = _secret_page(as_admin, response)
    assert secret not in cookie.value
    assert "gts_" not in cookie.value


def _replay(console, cookie: str) -> None:
    """Put a saved copy of the session cookie back, as someone replaying it would."""
    console.http.set_cookie("gatehouse_session", cookie)


def test_a_replayed_cookie_never_shows_the_secret_again(as_admin):
    """The cookie returned with the 303 still holds the sealed secret; replaying it must not
    show the page a second time: the page is consumed on the server."""
    response = as_admin.generate(owner=MEMBER, services=["jobs"])
    saved = as_admin.http.get_cookie("gatehouse_session").value
    client_id, secret = _secret_page(as_admin, response)
    for _ in range(3):
        _replay(as_admin, saved)
        again = as_admin.get(f"/tokens/{client_id}/secret")
        assert again.status_code == 410
        assert secret not in again.get_data(as_text=True)


def test_a_replayed_cookie_never_shows_a_rotated_secret_again(as_admin):
    client_id, _ = _secret_page(as_admin, as_admin.generate(services=["jobs"]))
    response = as_admin.post(f"/tokens/{client_id}/rotate", {"grace_seconds": "0"})
    saved = as_admin.http.get_cookie("gatehouse_session").value
    _, secret = _secret_page(as_admin, response)
    _replay(as_admin, saved)
    again = as_admin.get(f"/tokens/{client_id}/secret")
    assert again.status_code == 410 and secret not in again.get_data(as_text=True)


def test_another_session_cannot_see_the_secret(as_admin, app):
    response = as_admin.generate(owner=MEMBER, services=["jobs"])
    other = app.test_client()
    from tests.console.conftest import Console

    Console(other).login(ADMIN)
    html = other.get(response.headers["Location"]).get_data(as_text=True)
    assert not SECRET.search(html)


def test_member_generates_for_themselves(as_member):
    client_id, _ = _secret_page(as_member, as_member.generate(services=["candidates"]))
    assert MEMBER in as_member.page(f"/tokens/{client_id}")


def test_member_cannot_pick_another_owner_or_unheld_services(as_member):
    response = as_member.generate(owner=OTHER, services=["jobs"], name="Mine")
    client_id, _ = _secret_page(as_member, response)  # the owner field is ignored
    assert f"&lt;{MEMBER}&gt;" in as_member.page(f"/tokens/{client_id}")
    for scope in ("introspect", "master-list"):
        response = as_member.generate(services=[scope], name=f"try {scope}")
        assert response.status_code == 400
        assert "is not a valid choice" in response.get_data(as_text=True)


def test_missing_fields_are_named_and_typed_values_kept(as_admin):
    response = as_admin.generate(name="", expires_on="", description="kept <b>text</b>")
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Give the token a name." in html
    assert "Choose an expiry date." in html
    assert "Choose at least one service." in html
    assert "kept &lt;b&gt;text&lt;/b&gt;" in html


def test_expiry_limits_of_rule_2(as_admin):
    cases = {
        in_days(-1): "is in the past",
        in_days(367): f"too far ahead: the latest allowed is {in_days(366)}",
        "2025-02-30": "is not a valid date",
    }
    for value, message in cases.items():
        response = as_admin.generate(expires_on=value, services=["jobs"], name="Dated")
        html = response.get_data(as_text=True)
        assert response.status_code == 400, value
        assert message in html, value
        assert 'id="expires_on-error"' in html and 'aria-invalid="true"' in html
    assert as_admin.generate(expires_on=in_days(366), services=["jobs"]).status_code == 303
    assert as_admin.generate(expires_on=in_days(0), services=["jobs"], name="b").status_code == 303


def test_duplicate_name_is_refused_keeping_what_was_typed(as_admin):
    assert as_admin.generate(owner=MEMBER, services=["jobs"], name="Sync").status_code == 303
    response = as_admin.generate(
        owner=MEMBER, services=["jobs", "candidates"], name="  sync ", description="second"
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert f"{MEMBER} already has an active token named" in html
    assert 'id="name-error"' in html
    assert "second</textarea>" in html
    assert 'value="candidates" checked' in html


def test_the_26th_token_is_refused_with_a_clear_message(as_member, factory):
    for number in range(25):
        factory.client(owner=MEMBER, name=f"existing {number}")
    response = as_member.generate(services=["jobs"], name="one too many")
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "already has 25 active tokens, the most allowed is 25" in html
    assert 'value="one too many"' in html


def test_rotating_shows_a_new_secret_once_and_keeps_the_old_for_the_grace(as_admin, http):
    client_id, old = _secret_page(as_admin, as_admin.generate(services=["jobs"]))
    assert "Keep the old secret working for" in as_admin.page(f"/tokens/{client_id}/rotate")
    response = as_admin.post(f"/tokens/{client_id}/rotate", {"grace_seconds": "3600"})
    _, new = _secret_page(as_admin, response)
    assert new != old
    for secret in (old, new):
        answer = http.post(
            "/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret)
        )
        assert answer.status_code == 200
    assert as_admin.get(f"/tokens/{client_id}/secret").status_code == 410


def test_rotating_without_grace_stops_the_old_secret(as_admin, http):
    client_id, old = _secret_page(as_admin, as_admin.generate(services=["jobs"]))
    response = as_admin.post(f"/tokens/{client_id}/rotate", {"grace_seconds": "0"})
    assert response.status_code == 303
    answer = http.post("/token", data={"grant_type": "client_credentials"}, auth=(client_id, old))
    assert answer.status_code == 401


def test_a_revoked_token_cannot_be_rotated(as_admin):
    client_id, _ = _secret_page(as_admin, as_admin.generate(services=["jobs"]))
    as_admin.post(f"/tokens/{client_id}/revoke")
    response = as_admin.post(f"/tokens/{client_id}/rotate", {"grace_seconds": "0"})
    assert response.status_code == 409
    assert "is revoked; its secret cannot be rotated" in response.get_data(as_text=True)

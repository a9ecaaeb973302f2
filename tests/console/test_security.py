"""Headers, CSRF, escaping, cookies over https, and HTML or JSON error pages."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from app import create_app
from app.extensions import db
from tests.console.conftest import csrf_from
from tests.helpers import MEMBER, PASSWORD

SCRIPT = '<script>alert("x")</script>'
IMG = "<img src=x onerror=alert(1)>"


@pytest.mark.parametrize("path", ["/login", "/tokens", "/nowhere"])
def test_security_headers_on_every_page(console, path):
    headers = console.get(path).headers
    csp = headers["Content-Security-Policy"]
    for directive in (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "frame-ancestors 'none'",
    ):
        assert directive in csp
    assert "unsafe-inline" not in csp
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"


@pytest.mark.parametrize("path", ["/healthz", "/.well-known/jwks.json"])
def test_machine_responses_are_not_sniffed(console, path):
    """JSON answers carry nosniff; page-only headers are left off the hot paths."""
    headers = console.get(path).headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "Content-Security-Policy" not in headers


def test_console_pages_are_not_cached(as_member):
    assert as_member.get("/tokens").headers["Cache-Control"] == "no-store"


def test_pages_carry_no_inline_script_or_style(as_admin):
    for path in ("/login", "/tokens", "/tokens/new", "/users", "/users/new", "/audit"):
        html = as_admin.page(path) if path != "/login" else as_admin.get(path).get_data(True)
        assert "<script>" not in html and "style=" not in html and "<style" not in html
        assert "onclick" not in html


@pytest.mark.parametrize(
    "url, data",
    [
        ("/login", {"email": MEMBER, "password": PASSWORD}),
        ("/tokens/new", {"name": "x", "services": ["jobs"]}),
        ("/logout", {}),
    ],
)
def test_forms_without_a_valid_csrf_token_are_refused(as_member, url, data):
    for token in (None, "forged-token"):
        payload = dict(data) if token is None else data | {"csrf_token": token}
        response = as_member.http.post(url, data=payload)
        assert response.status_code == 400
        assert "The form could not be accepted" in response.get_data(as_text=True)
    assert "No active tokens yet" in as_member.page("/tokens")  # nothing was created


def _post_routes(app: Flask) -> list[str]:
    """Every POST URL the app routes, with a made-up value in each variable part."""
    urls = []
    for rule in app.url_map.iter_rules():
        if "POST" in (rule.methods or ()):
            values = {name: "1" for name in rule.arguments}
            urls.append(rule.build(values, append_unknown=False)[1])
    return urls


def test_every_post_route_outside_the_machine_paths_checks_csrf(as_admin, app):
    """The check goes by path: a page added anywhere but the machine paths is covered."""
    from app.http_policy import is_machine_path

    pages = [url for url in _post_routes(app) if not is_machine_path(url)]
    assert "/login" in pages and "/tokens/new" in pages and "/tokens/1/revoke" in pages
    for url in pages:
        response = as_admin.http.post(url, data={"name": "x"})
        assert response.status_code == 400, url
        assert "The form could not be accepted" in response.get_data(as_text=True), url
    machine = [url for url in _post_routes(app) if is_machine_path(url)]
    assert {"/token", "/introspect", "/revoke"} <= set(machine)
    # and no page of the console hides under a machine path, where it would go unchecked
    assert not [
        rule.rule
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("console.") and is_machine_path(rule.rule)
    ]


def test_a_token_from_another_session_is_refused(as_member, app, people):
    stranger = app.test_client()
    token = csrf_from(stranger.get("/login").get_data(as_text=True))
    response = as_member.http.post("/logout", data={"csrf_token": token})
    assert response.status_code == 400


def test_oauth_endpoints_need_no_csrf_token(console, factory, people):
    creds = factory.client(owner=MEMBER, scopes=["jobs"])
    response = console.http.post(
        "/token", data={"grant_type": "client_credentials"}, headers=creds.basic
    )
    assert response.status_code == 200, response.json
    spy = factory.introspector()
    token = response.json["access_token"]
    assert console.http.post("/introspect", data={"token": token}, headers=spy.basic).json["active"]
    assert (
        console.http.post("/revoke", data={"token": token}, headers=creds.basic).status_code == 200
    )


@pytest.mark.parametrize("name", [SCRIPT, IMG, "'; DROP TABLE clients; --"])
def test_typed_text_is_shown_verbatim_and_escaped(as_member, name):
    response = as_member.generate(services=["jobs"], name=name, description=name)
    assert response.status_code == 303
    client_id = response.headers["Location"].split("/")[2]
    for path in ("/tokens", f"/tokens/{client_id}", "/audit", response.headers["Location"]):
        html = as_member.get(path).get_data(as_text=True)
        assert name not in html, path
    escaped = name.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    escaped = escaped.replace('"', "&#34;").replace("'", "&#39;")
    assert escaped in as_member.page(f"/tokens/{client_id}")
    assert escaped in as_member.page("/tokens")


def test_console_404_is_an_html_page_and_machine_404_is_json(as_member):
    page = as_member.get("/tokens/a/b/c", headers={"Accept": "text/html,*/*;q=0.8"})
    assert page.status_code == 404 and page.mimetype == "text/html"
    assert "Not Found" in page.get_data(as_text=True)
    for path in ("/api/v1/nothing", "/token/extra", "/.well-known/nothing"):
        response = as_member.get(path, headers={"Accept": "text/html"})
        assert response.status_code == 404 and response.mimetype == "application/json", path
    assert as_member.get("/nowhere").mimetype == "application/json"  # no Accept: a machine
    wrong_method = as_member.get("/token", headers={"Accept": "text/html"})
    assert wrong_method.status_code == 405 and wrong_method.is_json


ORIGIN = "https://gatehouse.example"


@pytest.fixture
def secure_app(config, app) -> Iterator[Flask]:
    """The same database served under an https issuer."""
    secure = create_app(config | {"GATEHOUSE_ISSUER": ORIGIN})
    yield secure
    with secure.app_context():
        db.engine.dispose()


def test_https_cookies_are_secure_and_posts_need_a_same_site_referrer(secure_app, people):
    """Under an https issuer: Secure cookies, and Flask-WTF's same-site referrer check."""
    secure = secure_app.test_client()
    token = csrf_from(secure.get(f"{ORIGIN}/login").get_data(as_text=True))
    form = {"email": MEMBER, "password": PASSWORD, "csrf_token": token}
    assert secure.post(f"{ORIGIN}/login", data=form).status_code == 400  # no Referer
    elsewhere = secure.post(
        f"{ORIGIN}/login", data=form, headers={"Referer": "https://evil.example/"}
    )
    assert elsewhere.status_code == 400
    response = secure.post(f"{ORIGIN}/login", data=form, headers={"Referer": f"{ORIGIN}/login"})
    assert response.status_code == 302
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


@pytest.mark.parametrize("url", ["/tokens?q=a%00b", "/audit?actor=a%00b", "/users?q=%00"])
def test_a_nul_byte_is_bad_input_never_an_outage(as_admin, url):
    """PostgreSQL refuses NUL in text: that is the request's fault (4xx), not a 503."""
    response = as_admin.get(url)
    assert response.status_code < 500, response.get_data(as_text=True)[:300]


def test_a_nul_byte_in_the_login_email_is_bad_input(console, people):
    response = console.post("/login", {"email": "a\x00@example.com", "password": "x" * 12})
    assert response.status_code < 500

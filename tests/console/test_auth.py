"""Signing in and out, sessions, and the failed-sign-in throttle."""

from __future__ import annotations

import time

import pytest

from app import create_app
from app.extensions import db
from app.services import offboarding, users
from app.services.actors import Actor
from app.services.runtime import runtime
from tests.console.conftest import Console
from tests.helpers import ADMIN, MEMBER, PASSWORD

PAGES = ["/", "/tokens", "/tokens/new", "/tokens/abc", "/users", "/users/new", "/audit"]


def test_login_page_has_labelled_fields(console):
    html = console.page("/login")
    assert '<label for="email">Email</label>' in html
    assert '<label for="password">Password</label>' in html
    assert 'name="csrf_token"' in html


@pytest.mark.parametrize("path", PAGES)
def test_pages_need_a_signed_in_person(console, path):
    response = console.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_sign_in_lands_on_the_token_list_with_a_safe_session_cookie(console, people):
    response = console.login(MEMBER)
    assert response.headers["Location"] == "/"  # the home page: a member's is their tokens
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("gatehouse_session=")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # the test issuer is http://127.0.0.1
    assert "My tokens" in console.page("/tokens")


def test_sign_in_returns_to_the_page_asked_for_but_never_to_another_site(console, people):
    token = console.token()
    form = {"email": MEMBER, "password": PASSWORD, "csrf_token": token}
    response = console.http.post("/login?next=/audit", data=form)
    assert response.headers["Location"] == "/audit"
    console.post("/logout")
    evil = ("//evil.example/x", "https://evil.example/", "/\\evil.example", "/%09/evil.example")
    for target in (*evil, "/%0D%0A/evil.example", "/%0a/evil.example"):
        response = console.http.post(
            f"/login?next={target}", data=form | {"csrf_token": console.token()}
        )
        assert response.headers["Location"] == "/", target
        console.post("/logout")


@pytest.mark.parametrize("email", [MEMBER, "nobody@example.com"])
def test_a_wrong_password_and_an_unknown_email_get_the_same_answer(console, people, email):
    response = console.post("/login", {"email": email, "password": "wrong password!"})
    assert response.status_code == 401
    html = response.get_data(as_text=True)
    assert "The email or password is not right." in html
    assert f'value="{email}"' in html  # what was typed is kept
    assert console.get("/tokens").status_code == 302


def test_empty_fields_are_named(console, people):
    html = console.post("/login", {"email": "", "password": ""}).get_data(as_text=True)
    assert "Enter your email address." in html and "Enter your password." in html


def test_a_deactivated_user_cannot_sign_in(console, people, app):
    with app.app_context():
        offboarding.deactivate_user(Actor.cli(), MEMBER)
    response = console.post("/login", {"email": MEMBER, "password": PASSWORD})
    assert response.status_code == 401


def test_five_failures_lock_the_email_from_that_address(console, people):
    for _ in range(5):
        assert console.post("/login", {"email": MEMBER, "password": "nope nope"}).status_code == 401
    response = console.post("/login", {"email": MEMBER, "password": PASSWORD})
    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.get_data(as_text=True)
    assert int(response.headers["Retry-After"]) > 0
    # another account from the same address is not affected
    assert console.login(ADMIN).status_code == 302


def test_failed_sign_ins_from_one_address_are_limited_whatever_the_emails(console, people):
    """20 a minute per address over every email: a password check is too costly to leave
    unlimited just because each try names another account."""
    for number in range(20):
        response = console.post("/login", {"email": f"n{number}@example.com", "password": "x" * 12})
        assert response.status_code == 401, number
    response = console.post("/login", {"email": MEMBER, "password": PASSWORD})
    assert response.status_code == 429
    assert "Too many failed sign-ins for your address" in response.get_data(as_text=True)
    assert 0 < int(response.headers["Retry-After"]) <= 60 + 60 // 20
    other = console.http.post(
        "/login",
        data={"email": MEMBER, "password": PASSWORD, "csrf_token": console.token()},
        environ_base={"REMOTE_ADDR": "10.20.30.40"},
    )
    assert other.status_code == 302  # another address is not affected


def test_failed_sign_ins_across_one_ipv6_64_are_limited_as_one_address(console, people):
    """Whoever holds a /64 can send from 2**64 addresses: 20 failures a minute over the /64."""

    def sign_in(email: str, password: str, address: str):
        form = {"email": email, "password": password, "csrf_token": console.token()}
        return console.http.post("/login", data=form, environ_base={"REMOTE_ADDR": address})

    for number in range(20):
        response = sign_in(f"n{number}@example.com", "x" * 12, f"2001:db8:9:9::{number + 1}")
        assert response.status_code == 401, number
    response = sign_in(MEMBER, PASSWORD, "2001:db8:9:9:abcd::1")
    assert response.status_code == 429
    assert "Too many failed sign-ins for your address" in response.get_data(as_text=True)
    assert sign_in(MEMBER, PASSWORD, "2001:db8:9:a::1").status_code == 302  # the next /64


def test_a_sign_in_with_every_check_slot_busy_is_refused_at_once(console, people, app):
    """Password checks run a bounded number at a time; beyond it, 503 at once, never a queue."""
    with app.app_context(), runtime().password_slots.taken():
        started = time.monotonic()
        response = console.post("/login", {"email": MEMBER, "password": PASSWORD})
        elapsed = time.monotonic() - started
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    html = response.get_data(as_text=True)
    assert "Too many sign-ins are being checked right now" in html
    assert f'value="{MEMBER}"' in html  # the form is kept
    assert elapsed < 1.0
    assert console.login(MEMBER).status_code == 302  # a free slot: signed in


def test_a_success_before_the_limit_clears_the_count(console, people):
    for _ in range(4):
        console.post("/login", {"email": MEMBER, "password": "nope nope"})
    console.login(MEMBER)
    console.post("/logout")
    for _ in range(4):
        console.post("/login", {"email": MEMBER, "password": "nope nope"})
    assert console.login(MEMBER).status_code == 302


def test_sign_out_needs_post_with_csrf_and_ends_the_session(as_member):
    assert as_member.get("/logout").status_code == 405
    assert as_member.http.post("/logout").status_code == 400  # no CSRF token
    assert as_member.get("/tokens").status_code == 200
    response = as_member.post("/logout")
    assert response.headers["Location"] == "/login"
    assert as_member.get("/tokens").status_code == 302
    assert "You are signed out." in as_member.page("/login")


def test_sign_out_ends_the_session_on_the_server(as_member):
    """A copy of the cookie saved before signing out opens nothing afterwards."""
    token = as_member.token()  # a CSRF token of that session
    saved = as_member.http.get_cookie("gatehouse_session").value
    assert as_member.post("/logout").headers["Location"] == "/login"
    as_member.http.set_cookie("gatehouse_session", saved)
    assert as_member.get("/tokens").status_code == 302
    form = {"name": "After sign-out", "expires_on": "2099-01-01", "csrf_token": token}
    response = as_member.http.post("/tokens/new", data=form | {"services": "jobs"})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    as_member.login(MEMBER)  # signing in again works
    assert as_member.get("/tokens").status_code == 200


class Clock:
    """``time.time`` moved on by hand: the session cookie's signature and the server agree."""

    def __init__(self, monkeypatch) -> None:
        self.offset = 0.0
        real = time.time
        monkeypatch.setattr(time, "time", lambda: real() + self.offset)

    def advance(self, hours: float) -> None:
        self.offset += hours * 3600


def test_a_session_ends_twelve_hours_after_sign_in_however_active(as_member, monkeypatch):
    clock = Clock(monkeypatch)
    for _ in range(3):  # used every 5 hours: never idle for the cookie's 8 hours
        clock.advance(5)
        response = as_member.get("/tokens")
        if clock.offset < 12 * 3600:
            assert response.status_code == 200
    assert response.status_code == 302  # 15 hours after signing in
    assert response.headers["Location"].startswith("/login")


def test_an_idle_session_ends_after_eight_hours(as_member, monkeypatch):
    clock = Clock(monkeypatch)
    clock.advance(8.1)
    assert as_member.get("/tokens").status_code == 302


def test_a_new_password_ends_older_sessions(as_member, app):
    with app.app_context():
        users.set_password(Actor.cli(), MEMBER, "another long password")
    assert as_member.get("/tokens").status_code == 302
    as_member.login(MEMBER, "another long password")
    assert as_member.get("/tokens").status_code == 200


def test_deactivation_ends_the_session(as_member, app):
    with app.app_context():
        offboarding.deactivate_user(Actor.cli(), MEMBER)
    assert as_member.get("/tokens").status_code == 302


def test_signed_in_people_visiting_login_go_to_their_home_page(as_member):
    assert as_member.get("/login").headers["Location"] == "/"


def test_instances_share_sign_in_failures_through_redis(
    config, app, people, redis_url, address_prefix
):
    """With Redis, the lock holds across workers and instances, not per process."""
    config["GATEHOUSE_REDIS_URL"] = redis_url
    first, second = (create_app(config) for _ in range(2))
    address = f"{address_prefix}-login"
    browsers = []
    for instance in (first, second):
        http = instance.test_client()
        http.environ_base["REMOTE_ADDR"] = address
        browsers.append(Console(http))
    for attempt in range(5):  # failures spread over both instances
        response = browsers[attempt % 2].post("/login", {"email": MEMBER, "password": "nope nope"})
        assert response.status_code == 401
    assert browsers[0].post("/login", {"email": MEMBER, "password": PASSWORD}).status_code == 429
    assert browsers[1].post("/login", {"email": MEMBER, "password": PASSWORD}).status_code == 429
    for instance in (first, second):
        with instance.app_context():
            db.engine.dispose()

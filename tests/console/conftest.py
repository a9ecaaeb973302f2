"""Fixtures of the console tests: a signed-in test client that sends real CSRF tokens.

CSRF protection stays on (as in production): ``Console.post`` reads the token
from a rendered form, the way a browser submits it.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.helpers import ADMIN, MEMBER, PASSWORD

CSRF_FIELD = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def in_days(days: int) -> str:
    return (datetime.now(UTC).date() + timedelta(days=days)).isoformat()


def csrf_from(html: str) -> str:
    match = CSRF_FIELD.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1)


class Console:
    """The Flask test client as a person in a browser: forms carry the session's CSRF token."""

    def __init__(self, http: FlaskClient) -> None:
        self.http = http
        self.email: str | None = None

    def get(self, url: str, **kwargs) -> TestResponse:
        return self.http.get(url, **kwargs)

    def page(self, url: str, status: int = 200) -> str:
        response = self.http.get(url)
        assert response.status_code == status, response.get_data(as_text=True)[:2000]
        return response.get_data(as_text=True)

    def token(self) -> str:
        """A CSRF token of this session, read from a page with a form."""
        return csrf_from(self.http.get("/login", follow_redirects=True).get_data(as_text=True))

    def post(self, url: str, data: dict | None = None, **kwargs) -> TestResponse:
        data = dict(data or {})
        data.setdefault("csrf_token", self.token())
        return self.http.post(url, data=data, **kwargs)

    def login(self, email: str, password: str = PASSWORD) -> TestResponse:
        response = self.post("/login", {"email": email, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)[:2000]
        self.email = email
        return response

    def generate(self, **fields) -> TestResponse:
        # a browser always sends the owner picker's value; members have none (ignored)
        data = {"name": "Payroll sync", "description": "", "expires_on": in_days(30)}
        data["owner"] = self.email or ""
        data.update(fields)
        return self.post("/tokens/new", data)


@pytest.fixture
def app(app: Flask) -> Flask:
    app.config["WTF_CSRF_ENABLED"] = True
    return app


@pytest.fixture
def console(http: FlaskClient) -> Console:
    return Console(http)


@pytest.fixture
def as_admin(console: Console, people) -> Console:
    console.login(ADMIN)
    return console


@pytest.fixture
def as_member(console: Console, people) -> Console:
    console.login(MEMBER)
    return console

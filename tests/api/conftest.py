"""Fixtures of the management API tests: callers holding ``manage`` tokens.

Each caller is a client with the scope ``manage`` owned by one of the ``people``
(created through the services, as an administrator would), and an access token
it got from ``POST /token``, exactly as a script would.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.conftest import Credentials, Factory
from tests.helpers import ADMIN, MEMBER, OTHER

API = "/api/v1"


@dataclass
class Caller:
    """A script calling the API with a bearer token (``token=None``: without one)."""

    http: FlaskClient
    token: str | None
    creds: Credentials | None = None
    email: str | None = None

    def headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return {**headers, **(extra or {})}

    def get(self, path: str, **query: Any) -> TestResponse:
        return self.http.get(API + path, query_string=query, headers=self.headers())

    def post(self, path: str, body: Any = None, **kwargs: Any) -> TestResponse:
        if body is not None:
            kwargs["json"] = body
        headers = self.headers(kwargs.pop("headers", None))
        return self.http.post(API + path, headers=headers, **kwargs)

    def patch(self, path: str, body: Any = None, **kwargs: Any) -> TestResponse:
        if body is not None:
            kwargs["json"] = body
        headers = self.headers(kwargs.pop("headers", None))
        return self.http.patch(API + path, headers=headers, **kwargs)

    def create(self, status: int = 201, **fields: Any) -> dict[str, Any]:
        """``POST /clients`` with sensible defaults; asserts the status."""
        body = {"name": "Payroll sync", "expires_on": in_days(30), "services": ["jobs"]}
        body.update(fields)
        response = self.post("/clients", body)
        assert response.status_code == status, response.get_data(as_text=True)
        return response.json


def in_days(days: int) -> str:
    from datetime import UTC, datetime, timedelta

    return (datetime.now(UTC).date() + timedelta(days=days)).isoformat()


def bearer_token(http: FlaskClient, creds: Credentials, scope: str | None = None) -> str:
    form = {"grant_type": "client_credentials", **({"scope": scope} if scope else {})}
    response = http.post("/token", data=form, headers=creds.basic)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json["access_token"]


@pytest.fixture
def as_owner(http: FlaskClient, factory: Factory, people) -> Callable[..., Caller]:
    """``as_owner(MEMBER)``: a caller acting as that person through a new ``manage`` client."""

    def make(email: str, scopes: list[str] | None = None) -> Caller:
        creds = factory.client(owner=email, scopes=scopes or ["manage"], name=f"script {email}")
        return Caller(http, bearer_token(http, creds), creds, email)

    return make


@pytest.fixture
def admin(as_owner) -> Caller:
    return as_owner(ADMIN)


@pytest.fixture
def member(as_owner) -> Caller:
    """A member holding jobs and candidates."""
    return as_owner(MEMBER)


@pytest.fixture
def other(as_owner) -> Caller:
    """Another member, holding jobs and employees."""
    return as_owner(OTHER)


@pytest.fixture
def anonymous(http: FlaskClient) -> Caller:
    return Caller(http, None)


def assert_api_error(
    response: TestResponse, status: int, error: str | None = None, fields: set[str] | None = None
) -> dict[str, Any]:
    """The API's error shape: exactly ``error``, ``message`` and ``fields`` (names checked)."""
    text = response.get_data(as_text=True)
    assert response.status_code == status, text
    assert response.mimetype == "application/json", text
    body = response.json
    assert set(body) == {"error", "message", "fields"}, body
    assert isinstance(body["message"], str) and body["message"], body
    assert all(isinstance(v, str) and v for v in body["fields"].values()), body
    if error is not None:
        assert body["error"] == error, body
    if fields is not None:
        assert set(body["fields"]) == fields, body
    assert "gts_" not in text
    return body

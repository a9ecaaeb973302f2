"""No API response ever carries a client secret (``gts_``), in its body or its headers,
except the one answer that creates or rotates it; not even one the caller sent."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from tests.api.conftest import Caller, in_days


class Recording(FlaskClient):
    """The test client, keeping every response it gets."""

    seen: list[tuple[str, str, int, str]]

    def open(self, *args, **kwargs):
        response = super().open(*args, **kwargs)
        request = response.request
        headers = " ".join(f"{k}: {v}" for k, v in response.headers.items())
        text = response.get_data(as_text=True) + "\n" + headers
        self.seen.append((request.method, request.path, response.status_code, text))
        return response


@pytest.fixture
def http(app):
    app.test_client_class = Recording
    client = app.test_client()
    client.seen = []
    return client


def bearing_secrets(seen) -> list[tuple[str, str, int]]:
    return [(m, p, s) for m, p, s, text in seen if p.startswith("/api/") and "gts_" in text]


def test_only_creation_and_rotation_answers_carry_a_secret(http, admin, member):
    created = member.create(name="Leaky?", description="no")
    secret, cid = created["client_secret"], created["client_id"]
    rotated = member.post(f"/clients/{cid}/rotate-secret", {"grace_seconds": 60}).json
    new_secret = rotated["client_secret"]
    http.seen.clear()
    caller = Caller(http, member.token)
    calls = [
        lambda: caller.get("/clients"),
        lambda: caller.get("/clients", status="all", q="leaky"),
        lambda: caller.get(f"/clients/{cid}"),
        lambda: caller.patch(f"/clients/{cid}", {"description": "still no"}),
        lambda: caller.get("/audit-events", per_page=100),
        lambda: caller.get("/services"),
        lambda: Caller(http, admin.token).get("/users"),
        lambda: Caller(http, admin.token).get("/clients", status="all"),
        # a secret sent where it does not belong is never repeated back
        lambda: caller.post("/clients", {"name": "x", "colour": secret}),
        lambda: caller.post("/clients", {"name": "x", "services": ["jobs"], "expires_on": secret}),
        lambda: caller.post(
            "/clients", {"name": "x", "services": [secret], "expires_on": in_days(1)}
        ),
        lambda: caller.post("/clients", {"name": "x", "services": ["jobs"], "owner": secret}),
        lambda: caller.patch(f"/clients/{cid}", {"name": secret + "\x00"}),
        lambda: caller.get(f"/clients/{secret}"),
        lambda: caller.post(f"/clients/{new_secret}/revoke"),
        lambda: caller.get("/clients", q=secret + "\x00"),
        lambda: Caller(http, secret).get("/clients"),
        lambda: caller.post("/clients", data=secret, headers={"Content-Type": "application/json"}),
        lambda: caller.post(f"/clients/{cid}/revoke"),
        lambda: caller.get(f"/clients/{cid}"),
    ]
    for call in calls:
        call()
    assert len(http.seen) == len(calls)
    assert bearing_secrets(http.seen) == []
    # the check finds a secret where there is one
    http.seen.clear()
    Caller(http, member.token).create(name="Fresh")
    assert bearing_secrets(http.seen) == [("POST", "/api/v1/clients", 201)]

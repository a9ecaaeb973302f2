"""App-wide error answers keep what the HTTP error says: a 405 names the allowed methods."""

from __future__ import annotations

import pytest

# RFC 9110 §15.5.6: a 405 response MUST carry an Allow header listing the target's methods
WRONG_METHODS = [
    ("GET", "/token", {"POST"}),
    ("PUT", "/token", {"POST"}),
    ("DELETE", "/introspect", {"POST"}),
    ("GET", "/revoke", {"POST"}),
    ("DELETE", "/revocations", {"GET", "POST"}),
    ("POST", "/.well-known/jwks.json", {"GET"}),
    ("POST", "/.well-known/oauth-authorization-server", {"GET"}),
    ("POST", "/healthz", {"GET"}),
    ("GET", "/logout", {"POST"}),
    ("PUT", "/login", {"GET", "POST"}),
    ("DELETE", "/tokens", {"GET"}),
    ("PATCH", "/tokens/new", {"GET", "POST"}),
]


@pytest.mark.parametrize(
    "method, path, allowed", WRONG_METHODS, ids=[f"{m} {p}" for m, p, _ in WRONG_METHODS]
)
def test_every_405_names_the_allowed_methods(http, method, path, allowed):
    response = http.open(path, method=method)
    assert response.status_code == 405, response.get_data(as_text=True)
    listed = {item.strip() for item in response.headers.get("Allow", "").split(",")}
    assert allowed <= listed, response.headers
    assert listed <= allowed | {"HEAD", "OPTIONS"}, response.headers

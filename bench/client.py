"""Single HTTP requests to a server on loopback: readiness, a token, an introspection check."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.parse
import urllib.request

from bench.environment import BenchError, Credentials

HOST = "127.0.0.1"
FORM = "application/x-www-form-urlencoded"
GRANT_FORM = "grant_type=client_credentials"

# Loopback only, never through a proxy from the environment.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def basic(credentials: Credentials) -> str:
    """HTTP Basic client authentication; RFC 6749 §2.3.1 form-encodes id and secret first."""
    quote = lambda value: urllib.parse.quote(value, safe="")  # noqa: E731
    raw = f"{quote(credentials.client_id)}:{quote(credentials.secret)}".encode()
    return "Basic " + base64.b64encode(raw).decode()


def request(
    url: str, body: str | None = None, headers: dict[str, str] | None = None, timeout: float = 5
) -> tuple[int, bytes]:
    """One HTTP request (POST when there is a body); (status, body)."""
    if not url.startswith(f"http://{HOST}:"):
        raise BenchError(f"refusing a non-loopback URL: {url}")
    data = body.encode() if body is not None else None
    req = urllib.request.Request(url, data=data, headers=headers or {})
    if data is not None:
        req.add_header("Content-Type", FORM)
    try:
        with _OPENER.open(req, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def url(port: int, path: str) -> str:
    return f"http://{HOST}:{port}{path}"


def answers(target: str, body: str | None = None) -> bool:
    """True when TARGET answers 200 (a readiness probe)."""
    return request(target, body, timeout=2)[0] == 200


def fetch_token(token_url: str, client: Credentials, form: str = GRANT_FORM) -> str:
    status, body = request(token_url, form, {"Authorization": basic(client)})
    if status != 200:
        raise BenchError(f"POST {token_url} answered {status}: {body[:300]!r}")
    return json.loads(body)["access_token"]


def check_introspection(introspect_url: str, caller: Credentials, token: str) -> None:
    """The scenario is only worth timing if the token introspects as active."""
    form = "token=" + urllib.parse.quote(token, safe="")
    status, body = request(introspect_url, form, {"Authorization": basic(caller)})
    if status != 200 or not json.loads(body).get("active"):
        raise BenchError(f"POST {introspect_url} answered {status}: {body[:300]!r}")

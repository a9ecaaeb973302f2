"""Plain HTTP calls to a live server, with no client library between (see test_third_party_*)."""

from __future__ import annotations

import base64
import json
from typing import Any

import requests

from tests.conftest import Credentials

TIMEOUT = 10


def token_response(url: str, creds: Credentials, **form: str) -> requests.Response:
    """``POST /token`` (client_credentials, HTTP Basic); a new connection each time."""
    return requests.post(
        f"{url}/token",
        data={"grant_type": "client_credentials", **form},
        auth=(creds.client_id, creds.secret),
        timeout=TIMEOUT,
    )


def access_token(url: str, creds: Credentials, **form: str) -> str:
    """A fresh access token; fails the test if the server refuses."""
    response = token_response(url, creds, **form)
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def introspect(url: str, caller: Credentials, token: str) -> dict[str, Any]:
    """``POST /introspect`` as ``caller``; the RFC 7662 answer."""
    response = requests.post(
        f"{url}/introspect",
        data={"token": token},
        auth=(caller.client_id, caller.secret),
        timeout=TIMEOUT,
    )
    assert response.status_code == 200, response.text
    return response.json()


def jwt_header(token: str) -> dict[str, Any]:
    """The (unverified) JOSE header of a compact JWT."""
    segment = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))


def response_complete(answer: bytes) -> bool:
    """A whole HTTP/1.1 response is in ANSWER: its head, and as many body bytes as it
    declares (a kept-alive connection stays open after it)."""
    head, found, body = answer.partition(b"\r\n\r\n")
    if not found:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value)
    return False

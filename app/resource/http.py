"""The two HTTP requests a verifier makes: the JWKS and the revocation feed (stdlib only)."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any
from urllib.error import HTTPError
from urllib.parse import quote
from urllib.request import Request, urlopen


def get_json(url: str, headers: Mapping[str, str], timeout: float) -> Any:
    """GET ``url`` and parse its JSON body; any failure raises (``OSError``, ``ValueError``)."""
    if not url.startswith(("https://", "http://")):
        raise ValueError(f"refusing to fetch a non-HTTP URL: {url}")
    request = Request(url, headers={"Accept": "application/json", **headers})  # noqa: S310
    try:
        with urlopen(request, timeout=timeout) as response:  # noqa: S310 - scheme checked
            return json.loads(response.read())
    except HTTPError as exc:
        with exc:
            raise OSError(f"GET {url} answered {exc.code} {exc.reason}") from None


def basic_auth(client_id: str, secret: str) -> dict[str, str]:
    """RFC 6749 §2.3.1: form-urlencode id and secret, then HTTP Basic."""
    raw = f"{quote(client_id, safe='')}:{quote(secret, safe='')}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode("ascii")}

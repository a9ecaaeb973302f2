"""``POST /credentials/revoke``: report leaked secrets, like GitHub's credential revocation API.

No authentication: whoever found a secret may report it. The answer is always
``202 {"received": N}`` (N strings received), whether or not anything matched, so
the endpoint cannot be used to test secrets. Reports are rate-limited per source
address as failed client authentications are (each report counts as one); beyond
the limit, 429 with ``Retry-After``.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from app import metrics
from app.http_policy import client_address
from app.services import leak_reports
from app.services.runtime import runtime

bp = Blueprint("leak_report", __name__)
#: the longest string looked at; a secret is 53 characters
MAX_LENGTH = 1000


def _error(status: int, code: str, description: str) -> tuple[Response, int]:
    response = jsonify(error=code, error_description=description)
    response.headers["Cache-Control"] = "no-store"
    return response, status


def _credentials(body: Any) -> list[str] | None:
    """The reported strings, or None when the body is not ``{"credentials": [str, ...]}``."""
    if not isinstance(body, dict) or set(body) != {"credentials"}:
        return None
    items = body["credentials"]
    if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
        return None
    return items


@bp.post("/credentials/revoke")
def report_leak():
    """Revoke the clients whose secrets are reported; say only how many strings arrived."""
    address = client_address()
    # every report counts, as a failed authentication does: a flood from one address waits
    if retry_after := runtime().leak_reports.fail(address):
        message = f"too many reports from this address; retry in {retry_after} seconds"
        response, status = _error(429, "too_many_requests", message)
        response.headers["Retry-After"] = str(retry_after)
        return response, status
    if request.mimetype != "application/json":
        return _error(400, "invalid_request", 'send a JSON body: {"credentials": ["gts_..."]}')
    items = _credentials(request.get_json(silent=True))
    if items is None:
        return _error(
            400,
            "invalid_request",
            'the body must be {"credentials": [...]}: a list of strings, each a reported secret',
        )
    if len(items) > leak_reports.MAX_CREDENTIALS:
        return _error(
            400, "invalid_request", f"report at most {leak_reports.MAX_CREDENTIALS} strings at once"
        )
    if any(len(item) > MAX_LENGTH for item in items):
        return _error(400, "invalid_request", f"each string may be at most {MAX_LENGTH} characters")
    leak_reports.report(items, address)
    metrics.leak_report()
    response = jsonify(received=len(items))
    response.headers["Cache-Control"] = "no-store"
    return response, 202

"""Failed client authentications, made known to the operator and to no one else.

The caller always gets the same ``invalid_client`` answer; the reason goes to
``gatehouse_client_auth_failures_total{reason}`` and to one JSON log line with
the request id, the address and the client id presented (only when it has the
shape of a client id: a confused integration may send its secret in that field,
and a secret never reaches a log).
"""

from __future__ import annotations

import logging

from app import metrics
from app.oauth.errors import InvalidClient
from app.security.secrets import is_plausible_client_id

log = logging.getLogger("app.oauth")


def report(error: InvalidClient, address: str, path: str) -> None:
    """Count the failure by reason and log it (the failure path only: never a success)."""
    metrics.client_auth_failed(error.reason)
    client_id = error.client_id
    fields = {
        "event": "client_auth_failed",
        "reason": error.reason,
        "path": path,
        "address": address,
        "client_id": client_id if client_id and is_plausible_client_id(client_id) else None,
    }
    log.info("client authentication failed: %s", error.reason, extra={"fields": fields})

"""Operations: liveness (``/healthz``), readiness (``/readyz``) and ``/metrics``."""

from __future__ import annotations

import hmac

from flask import Blueprint, Response, jsonify, request

from app import metrics
from app.services import expiry, readiness
from app.services.runtime import settings

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """The process is up."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    """200 when every dependency answers; 503 naming the one that does not."""
    checks = readiness.check()
    ready = all(value.startswith("ok") for value in checks.values())
    return jsonify(status="ready" if ready else "unavailable", checks=checks), 200 if ready else 503


def _authorised(token: str | None) -> bool:
    """No token configured: open. Else ``Authorization: Bearer <token>``, compared in
    constant time (RFC 6750 §2.1)."""
    if token is None:
        return True
    scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        presented.strip().encode(), token.encode()
    )


@bp.get("/metrics")
def metrics_page():
    """Prometheus text: the instance's counters, summed over every worker, and gauges
    computed now from the database."""
    if not _authorised(settings().metrics_token):
        return Response(
            "a bearer token is required (GATEHOUSE_METRICS_TOKEN)\n",
            401,
            {"WWW-Authenticate": 'Bearer realm="metrics"', "Cache-Control": "no-store"},
            mimetype="text/plain",
        )
    body = metrics.render(expiry.gauges())
    return Response(body, 200, {"Cache-Control": "no-store"}, content_type=metrics.CONTENT_TYPE)

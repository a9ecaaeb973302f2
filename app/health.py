"""Operations: liveness (``/healthz``) and readiness (``/readyz``)."""

from __future__ import annotations

from flask import Blueprint, jsonify

from app.services import readiness

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

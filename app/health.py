"""Operations: liveness and readiness."""

from __future__ import annotations

from flask import Blueprint, jsonify
from sqlalchemy import text

from app.errors import Unavailable
from app.extensions import db
from app.services.runtime import runtime

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """The process is up."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    """The database answers and a signing key is loaded."""
    checks: dict[str, str] = {}
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
        db.session.rollback()
        checks["database"] = f"unreachable: {type(exc).__name__}"
    try:
        checks["keys"] = f"ok (signing kid {runtime().keys.signing_key().kid})"
    except Unavailable as exc:
        checks["keys"] = exc.message
    ready = all(value.startswith("ok") for value in checks.values())
    return jsonify(status="ready" if ready else "unavailable", checks=checks), 200 if ready else 503

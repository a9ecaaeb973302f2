"""Readiness: can this worker serve? Each dependency checked, and named when it fails."""

from __future__ import annotations

from sqlalchemy import text

from app.errors import Unavailable
from app.extensions import db
from app.services.runtime import runtime


def check() -> dict[str, str]:
    """``{"database": "ok" | why not, "keys": "ok (signing kid …)" | why not}``."""
    checks: dict[str, str] = {}
    try:
        db.session.execute(text("SELECT 1"))
        db.session.rollback()  # end the read: nothing is left open between requests
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
        db.session.rollback()
        checks["database"] = f"unreachable: {type(exc).__name__}"
    try:
        checks["keys"] = f"ok (signing kid {runtime().keys.signing_key().kid})"
    except Unavailable as exc:
        checks["keys"] = exc.message
    return checks

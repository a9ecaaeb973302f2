"""Readiness: can this worker serve? Each dependency checked, and named when it fails."""

from __future__ import annotations

from sqlalchemy import text

from app.errors import Unavailable
from app.extensions import db
from app.services.runtime import runtime

#: seconds a Redis check may take: a probe must answer quickly
REDIS_TIMEOUT = 0.5


def check() -> dict[str, str]:
    """``{"database": "ok" | why not, "keys": "ok (signing kid …)" | why not}``, and
    ``"redis"`` when ``GATEHOUSE_REDIS_URL`` is set."""
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
    redis_url = runtime().settings.redis_url
    if redis_url:
        checks["redis"] = _redis(redis_url)
    return checks


def _redis(url: str) -> str:
    """One PING on a fresh connection: the check is whether Redis answers now."""
    import redis

    client = redis.Redis.from_url(
        url, socket_timeout=REDIS_TIMEOUT, socket_connect_timeout=REDIS_TIMEOUT
    )
    try:
        client.ping()
        return "ok"
    except redis.RedisError as exc:
        return f"unreachable: {type(exc).__name__}"
    finally:
        client.close()

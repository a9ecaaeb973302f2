"""The console's home: for administrators, a dashboard; for members, their tokens.

Tokens issued and failed client authentications per hour come from the counters
``/metrics`` shows, as each served instance records them (``metric_history``);
the clients about to expire and the counts come from the clients table; refused
console sign-ins from the audit log.
"""

from __future__ import annotations

from datetime import timedelta

from flask import render_template
from flask_login import login_required

from app import metrics
from app.console import token_pages
from app.console.access import signed_in
from app.console.blueprint import bp
from app.console.charts import series_class, stacked_bars
from app.models.types import utcnow
from app.services import audit, expiry, metric_history
from app.services.runtime import settings

HOURS = 24
EXPIRING_DAYS = 14


@bp.get("/")
@login_required
def home():
    """Administrators: the dashboard. Members: their tokens."""
    if not signed_in().is_admin:
        return token_pages.tokens()
    now = utcnow()
    hours = metric_history.hourly(HOURS, now)
    reasons = list(metrics.FAILURE_REASONS)
    tokens_chart = stacked_bars(
        "Tokens issued per hour", hours, [("tokens", lambda h: h.tokens)], "tokens"
    )
    failures_chart = stacked_bars(
        "Failed client authentications per hour",
        hours,
        [(reason, lambda h, r=reason: h.failures.get(r, 0)) for reason in reasons],
        "failures",
    )
    active, expiring_soon = expiry.counts(now)
    return render_template(
        "console/dashboard.html",
        hours=hours,
        sampled=any(hour.sampled for hour in hours),
        tokens_chart=tokens_chart,
        failures_chart=failures_chart,
        reasons=[(reason, series_class(index)) for index, reason in enumerate(reasons)],
        active=active,
        expiring_soon=expiring_soon,
        expiring=expiry.expiring_within(EXPIRING_DAYS, now),
        expiring_days=EXPIRING_DAYS,
        sign_ins_refused=audit.count_since(audit.SIGN_IN_FAILED, now - timedelta(hours=HOURS)),
        sample_seconds=settings().metrics_sample_seconds,
        now=now,
    )

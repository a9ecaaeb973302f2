"""The audit log: administrators read everything, members what concerns them."""

from __future__ import annotations

from flask import render_template, request
from flask_login import login_required

from app.console.access import actor
from app.console.blueprint import bp
from app.errors import DomainError
from app.services import audit

PER_PAGE = 50
FILTERS = ("actor", "target", "since", "until")


@bp.get("/audit")
@login_required
def audit_log():
    """Who did what to which token, when and from where; filter by actor, target and days."""
    filters = {name: request.args.get(name, "").strip() for name in FILTERS}
    page, error = None, None
    try:
        page = audit.list_events(
            actor(),
            by=filters["actor"] or None,
            target=filters["target"] or None,
            since=filters["since"] or None,
            until=filters["until"] or None,
            page=request.args.get("page", 1, type=int),
            per_page=PER_PAGE,
        )
    except DomainError as err:
        error = err.message
    return render_template("console/audit.html", page=page, filters=filters, error=error)

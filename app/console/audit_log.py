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
#: what each recorded action is called on the page (an unknown one shows its code)
ACTIONS = {
    "client.create": "Token generated",
    "client.update": "Token edited",
    "client.revoke": "Token revoked",
    "client.rotate_secret": "Secret rotated",
    "user.create": "User added",
    "user.set_password": "Password set",
    "user.deactivate": "User deactivated",
    "user.sign_in_failed": "Sign-in refused",
    "service.add": "Service added",
    "mail.retry": "Email queued again",
}
#: detail names as the rest of the console says them
DETAILS = {
    "scopes": "services",
    "expires_on": "expires on",
    "grace_seconds": "grace seconds",
    "email": "email as typed",
}


@bp.app_template_global("action_label")
def action_label(action: str) -> str:
    return ACTIONS.get(action, action)


@bp.app_template_global("detail_label")
def detail_label(key: str) -> str:
    return DETAILS.get(key, key.replace("_", " "))


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

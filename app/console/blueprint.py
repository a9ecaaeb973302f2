"""The console blueprint, its template filters and its response policy."""

from __future__ import annotations

from datetime import date, datetime
from urllib.parse import urlencode

from flask import Blueprint, Response, request, url_for

from app.models.types import utcnow
from app.services import client_queries

bp = Blueprint("console", __name__)


@bp.after_request
def no_store(response: Response) -> Response:
    """Console pages hold personal data and one-time secrets: never cached, never re-shown."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


@bp.app_template_filter("day")
def day(value: date | datetime | None) -> str:
    """``YYYY-MM-DD`` (every date Gatehouse shows is written so), or an em dash."""
    return value.strftime("%Y-%m-%d") if value else "—"


@bp.app_template_filter("moment")
def moment(value: datetime | None) -> str:
    """``YYYY-MM-DD HH:MM UTC`` (timestamps are stored as naive UTC), or ``never``."""
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "never"


@bp.app_template_filter("ago")
def ago(value: datetime | None) -> str:
    """How long ago, roughly: ``just now``, ``3 minutes ago``, ``2 hours ago``, ``5 days ago``."""
    if value is None:
        return "never"
    seconds = max(0, int((utcnow() - value).total_seconds()))
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'' if count == 1 else 's'} ago"
    return "just now"


@bp.app_template_global("status_of")
def status_of(client) -> str:
    return client_queries.status_of(client)


@bp.app_template_global("page_url")
def page_url(page: int) -> str:
    """This page's URL with the same filters and another page number.

    The query string is appended as data, never passed to ``url_for``: there a name
    like ``_external``, ``_anchor`` or ``_method`` would change how the link is built.
    """
    path = url_for(request.endpoint or "console.tokens", **(request.view_args or {}))
    args = [(name, value) for name, value in request.args.items(multi=True) if name != "page"]
    return f"{path}?{urlencode([*args, ('page', str(page))])}"


@bp.app_template_global("mail_status")
def mail_status(message) -> str:
    """Where an email stands, in words: a file written is not an email sent."""
    if message.status == "sent":
        return "saved as .eml file, not emailed" if message.delivered_via == "file" else "sent"
    if message.status == "failed":
        return "failed"
    return "retrying" if message.attempts else "queued, not sent yet"

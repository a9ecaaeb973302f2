"""Domain errors in the console: form messages, or a 404/403 page."""

from __future__ import annotations

from flask import render_template
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError

from app.console.blueprint import bp
from app.errors import Conflict, DomainError, Forbidden, NotFound


def attach(form: FlaskForm, error: DomainError) -> int:
    """Put ``error.message`` on the fields it names (or on the form); return the HTTP status."""
    placed = False
    for name in error.fields:
        if name in form:
            form[name].errors = [*form[name].errors, error.message]
            placed = True
    if not placed:
        form.form_errors.append(error.message)
    return status_for(error)


def status_for(error: DomainError) -> int:
    """The HTTP status a page re-rendered for ``error`` answers with."""
    if isinstance(error, NotFound):
        return 404
    if isinstance(error, Forbidden):
        return 403
    if isinstance(error, Conflict):
        return 409
    return 400


def error_page(code: int, title: str, message: str):
    """The console's error page (also used by the app-wide handlers for HTML requests)."""
    return render_template("console/error.html", code=code, title=title, message=message), code


@bp.errorhandler(NotFound)
def not_found(error: NotFound):
    return error_page(404, "Not found", "There is no such page, or you do not have access to it.")


@bp.errorhandler(Forbidden)
def forbidden(error: Forbidden):
    return error_page(403, "Not allowed", error.message)


@bp.errorhandler(CSRFError)
def csrf_failed(error: CSRFError):
    return error_page(
        400,
        "The form could not be accepted",
        "The form was stale or did not come from this site. Go back, reload the page and "
        "try again.",
    )

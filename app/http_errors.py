"""App-wide error handlers: JSON for machines, HTML pages for people, 503 when the database is down.

An HTTP error answers with the console's HTML error page when the request is for
a console page (or from a browser that prefers HTML, outside the machine paths);
the OAuth endpoints, metadata and operations always answer JSON in the RFC 6749
shape, and the management API (``/api/``) in its own, ``{"error", "message", "fields"}``.
"""

from __future__ import annotations

import logging

from flask import Flask, jsonify, make_response, render_template, request
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from app.errors import Unavailable
from app.extensions import db
from app.http_policy import is_machine_path

log = logging.getLogger(__name__)
API_PREFIX = "/api/"


def wants_html() -> bool:
    """A console page, or a browser asking for HTML anywhere but the machine paths."""
    if is_machine_path(request.path):
        return False
    if request.blueprint == "console":
        return True
    accept = request.accept_mimetypes
    return accept["text/html"] > accept["application/json"]


def _error(status: int, code: str, title: str, message: str):
    """An HTML error page for people, an RFC 6749-shaped JSON body for machines, the
    management API's shape under ``/api/``."""
    if request.path.startswith(API_PREFIX):
        response = jsonify(error=code, message=message, fields={})
        response.headers["Cache-Control"] = "no-store"
        return response, status
    if wants_html():
        page = render_template("console/error.html", code=status, title=title, message=message)
        return page, status
    return jsonify(error=code, error_description=message), status


def _unavailable(message: str):
    response, status = _error(503, "temporarily_unavailable", "Service unavailable", message)
    response = make_response(response, status)
    response.headers["Retry-After"] = "1"
    response.headers["Cache-Control"] = "no-store"
    return response


def register(app: Flask) -> None:
    """JSON for HTTP errors; a database outage becomes 503 and heals by itself (pool pre-ping)."""

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(error):
        limit = app.config["MAX_CONTENT_LENGTH"] // 1024
        message = f"the request body is over {limit} KiB"
        if request.path.startswith(API_PREFIX):
            return _error(413, "payload_too_large", "Too large", message)
        return jsonify(error="invalid_request", error_description=message), 413

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        code = (error.name or "error").lower().replace(" ", "_")
        response = make_response(
            *_error(error.code or 500, code, error.name, error.description or "")
        )
        # the error's own headers (RFC 9110 §15.5.6: a 405 lists the allowed methods in Allow)
        for name, value in error.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    def database_down(error: DBAPIError):
        db.session.rollback()
        log.error("database unavailable: %s", type(error.orig).__name__ if error.orig else error)
        return _unavailable("the database is busy or unavailable; retry shortly")

    @app.errorhandler(DataError)
    def unstorable_input(error: DataError):
        # e.g. a NUL byte PostgreSQL refuses: the input is wrong, the database is fine
        db.session.rollback()
        message = "the request contains characters that cannot be stored or searched"
        return _error(400, "invalid_request", "Bad request", message)

    @app.errorhandler(IntegrityError)
    def concurrent_change(error: IntegrityError):
        db.session.rollback()
        log.warning("integrity error: %s", type(error.orig).__name__ if error.orig else error)
        return _error(
            409, "conflict", "Conflict", "the same change was made at the same moment; retry"
        )

    @app.errorhandler(Unavailable)
    def dependency_down(error: Unavailable):
        log.error("dependency unavailable: %s", error.message)
        return _unavailable(error.message)

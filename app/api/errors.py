"""Domain errors as API answers: ``{"error", "message", "fields"}`` with the status they mean.

Registered on the API blueprint only, so nothing runs for any other request. Errors
that happen before a view is chosen (an unknown path, a wrong method) and a database
outage are answered in the same shape by ``app.http_errors``, by path.
"""

from __future__ import annotations

from flask import Blueprint, Response
from sqlalchemy.exc import DataError

from app.api.validation import ApiError, error_response
from app.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound, Unavailable
from app.extensions import db


def status_of(error: DomainError) -> int:
    """404 for an object the caller may not see; 422 when an input names something that
    does not exist (an unknown owner): the input is wrong, not the path."""
    if isinstance(error, NotFound):
        return 422 if error.fields else 404
    if isinstance(error, Forbidden):
        return 403
    if isinstance(error, Conflict):
        return 409
    if isinstance(error, Unavailable):
        return 503
    return 422


#: one answer for a client that does not exist and one the caller may not see; it does
#: not repeat the path either, which may hold anything (a secret pasted in the wrong place)
NOT_FOUND = "No such client, or not one the caller may see."


def domain_error(error: DomainError) -> Response:
    status = status_of(error)
    code = "invalid_input" if status == 422 else error.code
    message = NOT_FOUND if status == 404 else error.message
    headers = {"Retry-After": "1"} if status == 503 else None
    fields = {name: error.message for name in error.fields}
    return error_response(ApiError(status, code, message, fields, headers))


def unstorable_input(_error: DataError) -> Response:
    """Text the database cannot store or compare (the schemas refuse it first)."""
    db.session.rollback()
    message = "The request contains characters that cannot be stored or searched."
    return error_response(ApiError(422, "invalid_input", message))


def register(bp: Blueprint) -> None:
    bp.register_error_handler(ApiError, error_response)
    for error in (NotFound, Forbidden, Conflict, InvalidInput, Unavailable):
        bp.register_error_handler(error, domain_error)
    bp.register_error_handler(DataError, unstorable_input)

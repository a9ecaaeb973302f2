"""Domain errors raised by the service layer; each room maps them to its own format.

No Flask here: the CLI, the JSON API, the console and the OAuth endpoints all
catch these and turn them into an exit status, a JSON body or a form message.
"""

from __future__ import annotations


class DomainError(Exception):
    """Base class: ``message`` is for people, ``fields`` names the inputs at fault."""

    code = "error"

    def __init__(self, message: str, fields: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


class NotFound(DomainError):
    code = "not_found"


class Forbidden(DomainError):
    code = "forbidden"


class Conflict(DomainError):
    code = "conflict"


class InvalidInput(DomainError):
    code = "invalid_input"


class LimitReached(Conflict):
    code = "limit_reached"


class Unavailable(DomainError):
    """A dependency (database, keys) cannot be reached right now."""

    code = "unavailable"

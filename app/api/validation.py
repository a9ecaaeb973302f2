"""Request validation for the management API: pydantic models, one error shape.

Bodies are read as JSON text and validated with ``model_validate_json`` in strict
mode: ``"5"``, ``true`` and ``5.5`` are not integers, a date is exactly
``YYYY-MM-DD``, and a field the model does not declare is refused (422) rather
than ignored. The order of the checks is the order a client would fix them in:
413 over 64 KiB, 415 not ``application/json``, 400 not JSON, 422 wrong shape.

Every error answers ``{"error", "message", "fields"}``, ``fields`` mapping the
path of each bad input (``name``, ``services.1``) to what is wrong with it. The
submitted value is never echoed back: it may be a password or a key.
"""

from __future__ import annotations

from typing import Any, TypeVar

from flask import Response, json, request
from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError
from werkzeug.exceptions import RequestEntityTooLarge

JSON = "application/json"
M = TypeVar("M", bound=BaseModel)


def _integral(value: Any) -> Any:
    return int(value) if type(value) is float and value.is_integer() else value


#: JSON Schema's ``integer`` admits ``5.0``: accept it as 5 (``"5"``, ``true`` and ``5.5``
#: stay refused). Put it last, ``Annotated[int, Field(ge=0), JSON_INT]``: placed before
#: ``Field``, pydantic writes the bounds into the JSON Schema as unknown keys (``"ge"``).
JSON_INT = BeforeValidator(_integral)


class Body(BaseModel):
    """A request body: unknown fields refused, no coercion (``"1"`` is not 1)."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


class Query(BaseModel):
    """A query string, validated as strings (``"5"`` is 5 there); unknown parameters refused."""

    model_config = ConfigDict(extra="forbid", strict=True)


class ApiError(Exception):
    """An error answered as ``{"error", "message", "fields"}`` with ``status``."""

    def __init__(
        self,
        status: int,
        error: str,
        message: str,
        fields: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error = error
        self.message = message
        self.fields = fields or {}
        self.headers = headers or {}


def error_response(error: ApiError) -> Response:
    """The JSON error body; never cached (it may describe a caller's own objects)."""
    fields = {"error": error.error, "message": error.message, "fields": error.fields}
    body = json.dumps(fields) + "\n"
    response = Response(body, error.status, headers=error.headers, mimetype=JSON)
    response.headers["Cache-Control"] = "no-store"
    return response


def field_errors(exc: ValidationError) -> dict[str, str]:
    """pydantic's errors as ``{"services.1": "Input should be a valid string"}``.

    An unknown field is named by itself (``"zz": "Extra inputs are not permitted"``);
    an error about the whole body (an array instead of an object) is named ``body``.
    """
    fields: dict[str, str] = {}
    for err in exc.errors(include_url=False, include_input=False, include_context=False):
        path = ".".join(str(part) for part in err["loc"]) or "body"
        fields[path] = f"{fields[path]}; {err['msg']}" if path in fields else err["msg"]
    return fields


def invalid(fields: dict[str, str], message: str = "Some fields are invalid.") -> ApiError:
    return ApiError(422, "invalid_input", message, fields)


def parse_body(model: type[M], required: bool = True) -> M:
    """The request body as ``model``: 413, 415, 400 or 422 when it is not one.

    An empty body is ``{}`` where the body is optional (``rotate-secret``).
    """
    try:
        # limited to the app's MAX_CONTENT_LENGTH (64 KiB) while it is read
        raw = request.get_data(cache=False)
    except RequestEntityTooLarge:
        raise ApiError(413, "payload_too_large", "The request body is over 64 KiB.") from None
    if not raw and not required:
        raw = b"{}"
    elif request.mimetype != JSON:
        raise ApiError(
            415, "unsupported_media_type", f"Send the body as {JSON} (Content-Type: {JSON})."
        )
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        if any(err["type"] == "json_invalid" for err in exc.errors()):
            raise ApiError(400, "invalid_json", "The body is not valid UTF-8 JSON.") from None
        raise invalid(field_errors(exc)) from None


def parse_query(model: type[M]) -> M:
    """The query string as ``model``; a repeated parameter keeps its first value."""
    try:
        return model.model_validate_strings(request.args.to_dict(flat=True))
    except ValidationError as exc:
        raise invalid(field_errors(exc), "Some query parameters are invalid.") from None

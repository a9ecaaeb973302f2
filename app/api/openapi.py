"""The OpenAPI 3.1 document of the management API, built from its declared operations.

Every model goes through one ``models_json_schema`` call, so ``components/schemas``
is exactly the JSON Schema (2020-12) pydantic validates with, and every ``$ref``
points into it. Query models become ``parameters``. Each operation lists every
status it can answer: its own, 401/403/503 when it needs a token, 400/413/415/422
when it takes a body, 422 when it takes a query, 404 when its path names an object.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from app.api.operations import Api, Operation
from app.api.validation import JSON

REF = "#/components/schemas/{model}"
SECURED = (401, 403, 503)
WITH_BODY = (400, 413, 415, 422)
REASONS = {
    400: "The body is not JSON",
    401: "No bearer token, or one that is not valid now",
    403: "The token lacks the manage scope, or the owner's role does not allow this",
    404: "No such object, or not one the caller may see",
    409: "Conflict: the owner's cap of active clients, a duplicate name, or an inactive client",
    413: "The body is over 64 KiB",
    415: "The body is not application/json",
    422: "Invalid input; fields names each bad one",
    503: "The database is unavailable; retry shortly",
}
ERROR_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["error", "message", "fields"],
    "properties": {
        "error": {"type": "string", "description": "a machine-readable code"},
        "message": {"type": "string", "description": "what went wrong, for people"},
        "fields": {
            "type": "object",
            "additionalProperties": {"type": "string"},
            "description": "each bad input's path (`name`, `services.1`) and what is wrong",
        },
    },
}
#: the path parameter every ``<client_id>`` rule takes
PATH_PATTERNS = {"client_id": "^[0-9A-Za-z]{24}$"}
DESCRIPTION = """\
Manage Gatehouse clients from scripts. Every call but this document's own carries
`Authorization: Bearer <access token>` from `POST /token` of a client holding the scope
`manage`; the call acts as that client's owner, with the owner's role.

Errors answer `{"error", "message", "fields"}`. Lists are paged with `page` (from 1) and
`per_page` (default 20 for clients, 50 otherwise, at most 100); each answer gives `total`
and `next_page`, null on the last page; a page past the end is empty."""


def _path(prefix: str, rule: str) -> tuple[str, list[str]]:
    """``/clients/<client_id>`` as ``/clients/{client_id}``, and its parameter names."""
    parts, names = [], []
    for segment in (prefix + rule).split("/"):
        if segment.startswith("<") and segment.endswith(">"):
            names.append(segment[1:-1].split(":")[-1])
            segment = "{" + names[-1] + "}"
        parts.append(segment)
    return "/".join(parts), names


def _query_parameters(model: dict[str, Any]) -> list[dict[str, Any]]:
    """A query model's fields as parameters; each description is lifted from its schema."""
    required = set(model.get("required", []))
    parameters = []
    for name, schema in model["properties"].items():
        parameter = {
            "name": name,
            "in": "query",
            "required": name in required,
            "schema": {k: v for k, v in schema.items() if k not in ("title", "description")},
        }
        if schema.get("description"):
            parameter["description"] = schema["description"]
        parameters.append(parameter)
    return parameters


def _errors(codes: Iterable[int]) -> dict[str, Any]:
    ref = {"$ref": "#/components/schemas/Error"}
    out: dict[str, Any] = {
        str(code): {"description": REASONS[code], "content": {JSON: {"schema": ref}}}
        for code in sorted(set(codes))
    }
    if "401" in out:  # RFC 6750 §3: the challenge names the scheme
        out["401"]["headers"] = {
            "WWW-Authenticate": {"required": True, "schema": {"type": "string"}}
        }
    return out


def _operation(api: Api, op: Operation, refs: dict, schemas: dict) -> dict[str, Any]:
    path, names = _path(api.prefix, op.rule)
    parameters: list[dict[str, Any]] = [
        {
            "name": n,
            "in": "path",
            "required": True,
            "schema": {"type": "string", "pattern": PATH_PATTERNS[n]},
        }
        for n in names
    ]
    codes = set(op.errors) | set(SECURED)
    if op.query is not None:
        parameters += _query_parameters(schemas[op.query.__name__])
        codes.add(422)
    if names:
        codes.add(404)
    entry: dict[str, Any] = {
        "operationId": op.name,
        "tags": [op.tag],
        "summary": op.summary,
        "parameters": parameters,
        "security": [{"bearer": []}],
    }
    if op.description:
        entry["description"] = op.description
    if op.body is not None:
        schema = refs[(op.body, "validation")]
        entry["requestBody"] = {"required": op.body_required, "content": {JSON: {"schema": schema}}}
        codes |= set(WITH_BODY)
    success: dict[str, Any] = {"description": op.summary}
    if op.result is not None:
        success["content"] = {JSON: {"schema": refs[(op.result, "serialization")]}}
    if op.links:
        success["links"] = {
            name: {
                "operationId": name,
                "parameters": {_link_parameter(api, name): f"$response.body#{pointer}"},
            }
            for name, pointer in op.links.items()
        }
    entry["responses"] = {str(op.status): success, **_errors(codes)}
    return {path: {op.method.lower(): entry}}


def _link_parameter(api: Api, name: str) -> str:
    target = next(op for op in api.operations if op.name == name)
    return _path(api.prefix, target.rule)[1][0]


def _document_paths(prefix: str) -> dict[str, Any]:
    """The two unauthenticated reads: this document and its page for people."""
    return {
        f"{prefix}/openapi.json": {
            "get": {
                "operationId": "openapi_document",
                "tags": ["document"],
                "security": [],
                "summary": "This OpenAPI 3.1 document (no authentication)",
                "responses": {
                    "200": {
                        "description": "The document",
                        "content": {JSON: {"schema": {"type": "object"}}},
                    }
                },
            }
        },
        f"{prefix}/reference": {
            "get": {
                "operationId": "reference_page",
                "tags": ["document"],
                "security": [],
                "summary": "This document as a page for people (no authentication)",
                "responses": {
                    "200": {
                        "description": "An HTML page",
                        "content": {"text/html": {"schema": {"type": "string"}}},
                    }
                },
            }
        },
    }


def build_document(api: Api) -> dict[str, Any]:
    """The whole document; deterministic for a given set of operations."""
    wanted: set[tuple[type[BaseModel], str]] = set()
    for op in api.operations:
        wanted |= {(m, "validation") for m in (op.body, op.query) if m is not None}
        if op.result is not None:
            wanted.add((op.result, "serialization"))
    ordered = sorted(wanted, key=lambda pair: (pair[0].__name__, pair[1]))
    refs, defs = models_json_schema(ordered, ref_template=REF)
    schemas = {**defs.get("$defs", {}), "Error": ERROR_SCHEMA}
    paths: dict[str, dict[str, Any]] = {}
    for op in api.operations:
        for path, item in _operation(api, op, refs, schemas).items():
            paths.setdefault(path, {}).update(item)
    paths.update(_document_paths(api.prefix))
    for op in api.operations:  # described as parameters, not as components
        if op.query is not None:
            schemas.pop(op.query.__name__, None)
    return {
        "openapi": "3.1.0",
        "info": {"title": api.title, "version": api.version, "description": DESCRIPTION},
        "paths": paths,
        "components": {
            "schemas": dict(sorted(schemas.items())),
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "An access token from POST /token carrying the scope manage.",
                }
            },
        },
    }

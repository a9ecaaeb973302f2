"""Declaring an API operation once: its Flask view, its validation and its OpenAPI entry.

``api.operation("POST", "/clients", body=ClientCreate, result=ClientCreated, ...)`` on a
function registers a view that authenticates the caller (401/403), validates the
query string and the body (413/415/400/422), calls the function with what it
needs, and answers its result model as JSON. The same declaration is what
``app.api.openapi`` turns into the document, so what is validated is what is
documented.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Response
from pydantic import BaseModel

from app.api.validation import JSON, parse_body, parse_query


@dataclass(frozen=True)
class Operation:
    """One method on one path, as the view runs it and the document describes it."""

    method: str
    #: the Flask rule below the blueprint's prefix: ``/clients/<client_id>``
    rule: str
    #: the function's name: the Flask endpoint and the OpenAPI ``operationId``
    name: str
    tag: str
    summary: str
    description: str
    status: int
    result: type[BaseModel] | None
    body: type[BaseModel] | None
    body_required: bool
    query: type[BaseModel] | None
    #: what the function itself may answer besides ``status`` (403, 404, 409, 422 …)
    errors: tuple[int, ...]
    #: operation name -> JSON pointer into the result that fills its path parameter
    links: dict[str, str] = field(default_factory=dict)


class Api:
    """The operations of one blueprint; ``authenticate()`` returns the caller or raises."""

    def __init__(
        self, bp: Blueprint, *, title: str, version: str, authenticate: Callable[[], Any]
    ) -> None:
        self.bp = bp
        self.title = title
        self.version = version
        self.authenticate = authenticate
        self.operations: list[Operation] = []

    @property
    def prefix(self) -> str:
        return self.bp.url_prefix or ""

    def operation(
        self,
        method: str,
        rule: str,
        *,
        tag: str,
        status: int = 200,
        result: type[BaseModel] | None = None,
        body: type[BaseModel] | None = None,
        body_required: bool = True,
        query: type[BaseModel] | None = None,
        errors: Iterable[int] = (),
        links: dict[str, str] | None = None,
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Register ``func(caller, [path args], [query=], [body=]) -> result``.

        The first line of the function's docstring is the summary, the rest the
        description.
        """

        def register(func: Callable[..., Any]) -> Callable[..., Any]:
            summary, _, description = (func.__doc__ or func.__name__).strip().partition("\n")
            op = Operation(
                method=method,
                rule=rule,
                name=func.__name__,
                tag=tag,
                summary=summary.strip(),
                description=" ".join(description.split()),
                status=status,
                result=result,
                body=body,
                body_required=body_required,
                query=query,
                errors=tuple(errors),
                links=links or {},
            )
            self.operations.append(op)
            self.bp.add_url_rule(rule, op.name, self._view(op, func), methods=[method])
            return func

        return register

    def _view(self, op: Operation, func: Callable[..., Any]) -> Callable[..., Response]:
        @functools.wraps(func)
        def view(**path_args: Any) -> Response:
            kwargs: dict[str, Any] = {"caller": self.authenticate(), **path_args}
            if op.query is not None:
                kwargs["query"] = parse_query(op.query)
            if op.body is not None:
                kwargs["body"] = parse_body(op.body, op.body_required)
            return reply(func(**kwargs), op.status)

        return view


def reply(result: BaseModel | None, status: int = 200) -> Response:
    """A result model as JSON; never cached (it may hold a secret shown once)."""
    if result is None:
        response = Response(status=status)
    else:
        # a final newline, as Flask's jsonify writes: a terminal shows curl's output whole
        response = Response(result.model_dump_json() + "\n", status, mimetype=JSON)
    response.headers["Cache-Control"] = "no-store"
    return response

"""The OpenAPI document (``/api/v1/openapi.json``) and its page for people
(``/api/v1/reference``); both readable without a token."""

from __future__ import annotations

from typing import Any

from flask import Response, json, render_template

from app.api import reference
from app.api.blueprint import PREFIX, api, bp
from app.api.openapi import build_document
from app.http_policy import CONTENT_SECURITY_POLICY

_built: dict[str, Any] = {}


def document() -> dict[str, Any]:
    """The document, built once from the declared operations (they never change)."""
    if "document" not in _built:
        _built["document"] = build_document(api)
        _built["json"] = json.dumps(_built["document"], indent=1)
    return _built["document"]


@bp.get("/openapi.json")
def openapi_document() -> Response:
    document()
    return Response(_built["json"], mimetype="application/json")


@bp.get("/reference")
def reference_page() -> Response:
    """A page for people: the machine path's JSON headers are not enough, so the page
    carries the console's (no script, nothing from elsewhere, no framing)."""
    doc = document()
    html = render_template(
        "api/reference.html",
        doc=doc,
        prefix=PREFIX,
        operations=reference.operations(doc),
        models=list(doc["components"]["schemas"]),
        fields_of=reference.fields_of,
    )
    response = Response(html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    return response

"""Per-request instrumentation, as WSGI middleware: a request id in and out, and latency.

Every response carries ``X-Request-Id``. It is the incoming header's value when
``GATEHOUSE_TRUSTED_PROXIES`` says a proxy in front sets it (and the value looks
like an id: up to 128 letters, digits and ``._:+/=@-``), else 128 random bits in
hex. Log lines written while the request is served carry it (``app.logs``).

Latency goes to ``gatehouse_http_request_duration_seconds`` labelled by the matched
route rule (``/tokens/<client_id>``, never the path) and the status class. The work
per request is a few dictionary operations and one histogram observation: measured
with ``python -m bench.profile token`` (see README, "Operating Gatehouse").
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from time import perf_counter
from typing import Any

from flask import Flask

from app import metrics
from app.logs import REQUEST_ID

HEADER = "X-Request-Id"
_INCOMING = "HTTP_X_REQUEST_ID"
_SHAPE = re.compile(r"[A-Za-z0-9._:+/=@-]{1,128}")
#: werkzeug keeps the request object here while the app answers (``populate_request``)
_REQUEST = "werkzeug.request"

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class Instrumented:
    """Wraps the app: assigns the request id, adds the header, times the answer."""

    def __init__(self, app: WSGIApp, trust_incoming_id: bool) -> None:
        self.app = app
        self.trust_incoming_id = trust_incoming_id

    def request_id(self, environ: dict[str, Any]) -> str:
        if self.trust_incoming_id:
            incoming = environ.get(_INCOMING)
            if incoming and _SHAPE.fullmatch(incoming):
                return incoming
        return os.urandom(16).hex()

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        started = perf_counter()
        request_id = environ[REQUEST_ID] = self.request_id(environ)
        answered: list[tuple[str | None, str]] = []

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            headers.append((HEADER, request_id))
            request = environ.get(_REQUEST)
            rule = getattr(request, "url_rule", None)
            answered.append((rule.rule if rule is not None else None, status))
            return start_response(status, headers, exc_info)

        try:
            return self.app(environ, start)
        finally:
            if answered:
                route, status = answered[-1]
                metrics.observe_request(route, int(status[:3]), perf_counter() - started)


def install(app: Flask, trusted_proxies: int) -> None:
    """Instrument ``app`` (outermost, so the time includes everything the app does)."""
    app.wsgi_app = Instrumented(app.wsgi_app, trust_incoming_id=trusted_proxies > 0)  # type: ignore[method-assign]

"""Per-request instrumentation, as WSGI middleware: a request id in and out, and latency.

Every response carries ``X-Request-Id``. It is the incoming header's value when
``GATEHOUSE_TRUSTED_PROXIES`` says a proxy in front sets it (and the value looks
like an id: up to 128 letters, digits and ``._:+/=@-``), else 128 random bits in
hex. Log lines written while the request is served carry it (``app.logs``).

Latency goes to ``gatehouse_http_request_duration_seconds`` labelled by the matched
route rule (``/tokens/<client_id>``, never the path) and the status class. The work
per request is a few dictionary operations and one histogram observation: measured
with ``python -m bench.profile token`` (see README, "Operating Gatehouse").

With ``gatehouse serve --access-log``, each answered request is also one JSON line
(logger ``app.access``), whatever server runs the app: method, the target with
every parameter value redacted (``app.logs.redact_target``), status, duration,
address and request id. Nothing else of the request (no header) is logged.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Iterable
from time import perf_counter
from typing import Any

from flask import Flask
from werkzeug.wsgi import ClosingIterator

from app import logs, metrics
from app.logs import FIELDS, REQUEST_ID, redact_target
from app.services import usage

HEADER = "X-Request-Id"
_INCOMING = "HTTP_X_REQUEST_ID"
_SHAPE = re.compile(r"[A-Za-z0-9._:+/=@-]{1,128}")
#: werkzeug keeps the request object here while the app answers (``populate_request``)
_REQUEST = "werkzeug.request"
#: the route of a request answered without Flask's routing (``app.oauth.fast_path``)
ROUTE = "gatehouse.route"

access_log = logging.getLogger("app.access")
StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class Instrumented:
    """Wraps the app: assigns the request id, adds the header, times the answer."""

    def __init__(self, app: WSGIApp, trust_incoming_id: bool) -> None:
        self.app = app
        self.trust_incoming_id = trust_incoming_id
        #: one JSON line per answered request (``gatehouse serve --access-log``)
        self.access_log = False

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
            answered.append((rule.rule if rule is not None else environ.get(ROUTE), status))
            return start_response(status, headers, exc_info)

        with logs.serving(request_id), usage.deferring() as later:
            try:
                result = self.app(environ, start)
            finally:
                if answered:
                    route, status = answered[-1]
                    elapsed = perf_counter() - started
                    metrics.observe_request(route, int(status[:3]), elapsed)
                    if self.access_log:
                        _log_access(environ, int(status[:3]), elapsed, request_id)
        # work queued for after the response (``usage.after_response``) runs at WSGI close
        return ClosingIterator(result, later) if later else result


def _log_access(environ: dict[str, Any], status: int, elapsed: float, request_id: str) -> None:
    query = environ.get("QUERY_STRING")
    target = redact_target(environ.get("PATH_INFO", "") + (f"?{query}" if query else ""))
    method = environ.get("REQUEST_METHOD", "-")
    fields = {
        "method": method,
        "target": target,
        "status": status,
        "duration_ms": round(elapsed * 1000, 3),
        "address": environ.get("REMOTE_ADDR"),
        "request_id": request_id,
    }
    access_log.info("%s %s %d", method, target, status, extra={FIELDS: fields})


def log_access(app: Flask) -> None:
    """Write one access line per request from now on (``gatehouse serve --access-log``)."""
    wrapped = app.wsgi_app
    if isinstance(wrapped, Instrumented):
        wrapped.access_log = True


def install(app: Flask, trusted_proxies: int) -> None:
    """Instrument ``app`` (outermost, so the time includes everything the app does)."""
    app.wsgi_app = Instrumented(app.wsgi_app, trust_incoming_id=trusted_proxies > 0)  # type: ignore[method-assign]

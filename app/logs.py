"""Logs as one JSON object a line, each written during a request carrying its request id.

The request id (``X-Request-Id``, set by ``app.instrumentation``) is in every line
logged while a request is served, in gunicorn's access lines, and in the response,
so a client holding a failed answer can point the operator at its log lines.
Secrets are never passed to a logger.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

from flask import has_request_context, request

#: where the request's id is kept in the WSGI environment
REQUEST_ID = "gatehouse.request_id"
#: the gunicorn access-log atom of the response's ``X-Request-Id`` header
_ACCESS_ATOM = "{x-request-id}o"
#: structured fields a caller may pass with ``extra={"fields": {...}}``
FIELDS = "fields"


def current_request_id() -> str | None:
    """The id of the request being served, if any."""
    if has_request_context():
        return request.environ.get(REQUEST_ID)
    return None


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = _request_id(record)
        if request_id:
            entry["request_id"] = request_id
        fields = getattr(record, FIELDS, None)
        if isinstance(fields, dict):
            entry.update({k: v for k, v in fields.items() if k not in entry})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def _request_id(record: logging.LogRecord) -> str | None:
    args = record.args
    if record.name == "gunicorn.access" and isinstance(args, dict):
        value = args.get(_ACCESS_ATOM)
        return value if isinstance(value, str) and value != "-" else None
    return current_request_id()


def configure_logging(level: int = logging.INFO) -> None:
    """Send the ``app`` loggers to stderr as JSON lines (once per process)."""
    logger = logging.getLogger("app")
    if any(isinstance(h.formatter, JsonFormatter) for h in logger.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False


def configure_process_logging(level: int = logging.INFO) -> None:
    """A server or worker process: every logger (libraries' too) and Python's warnings
    write JSON lines to stderr, so nothing the process logs is plain text."""
    configure_logging(level)
    root = logging.getLogger()
    for handler in list(root.handlers):
        if not isinstance(handler.formatter, JsonFormatter):
            root.removeHandler(handler)
    if not root.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        root.addHandler(handler)
    root.setLevel(logging.WARNING)
    logging.captureWarnings(True)

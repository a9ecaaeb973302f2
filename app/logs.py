"""Logs as one JSON object a line, each written during a request carrying its request id.

The request id (``X-Request-Id``, set by ``app.instrumentation``) is in every line
logged while a request is served, in its access line, and in the response, so a
client holding a failed answer can point the operator at its log lines. Secrets
are never passed to a logger, and whatever a client puts in a URL may be a secret
(``/token?client_secret=…`` is refused, but it was sent): a request target is
logged with every parameter value replaced by ``REDACTED`` (``redact_target``), and
no header (a ``Referer`` included) is logged at all.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

#: where the request's id is kept in the WSGI environment
REQUEST_ID = "gatehouse.request_id"
#: structured fields a caller may pass with ``extra={"fields": {...}}``
FIELDS = "fields"


#: the id of the request being served (``serving``, bound by ``app.instrumentation``)
_served: ContextVar[str | None] = ContextVar("gatehouse_request_id", default=None)


def current_request_id() -> str | None:
    """The id of the request being served, if any."""
    return _served.get()


class serving:  # lower case: used like a function, in a with statement
    """Within the block, log lines carry ``request_id``, Flask's request context or not.

    A class rather than ``@contextmanager``: it is entered on every request, and a
    generator costs a frame and two resumptions more (see ``app.instrumentation``).
    """

    __slots__ = ("request_id", "_token")

    def __init__(self, request_id: str) -> None:
        self.request_id = request_id

    def __enter__(self) -> None:
        self._token = _served.set(self.request_id)

    def __exit__(self, *_exc: object) -> None:
        _served.reset(self._token)


REDACTED = "REDACTED"
#: a parameter name worth keeping in a log line: short and plain (a bare secret is not)
_PLAIN_NAME = re.compile(r"[A-Za-z0-9_.\-\[\]]{1,40}")


def redact_query(query: str) -> str:
    """``a=1&client_secret=x`` -> ``a=REDACTED&client_secret=REDACTED``: names kept, values
    never. A bare item (``?gts_…``) or a name that is not short and plain is a value in
    disguise, and goes whole."""
    parts = []
    for part in query.split("&"):
        name, equals, _ = part.partition("=")
        if equals and _PLAIN_NAME.fullmatch(name):
            parts.append(f"{name}={REDACTED}")
        elif part:
            parts.append(REDACTED)
    return "&".join(parts)


def redact_target(target: str) -> str:
    """A request target or URL with its query redacted (``redact_query``) and no fragment."""
    path, question, query = target.partition("#")[0].partition("?")
    return path + question + redact_query(query) if question else path


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

"""Logs as one JSON object a line. Secrets are never passed to a logger.

Whatever a client puts in a URL may be a secret (``/token?client_secret=…`` is
refused, but it was sent): a request target or a ``Referer`` is logged with
every parameter value replaced by ``REDACTED`` (``redact_target``).
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime

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
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry)


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

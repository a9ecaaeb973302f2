"""gunicorn's sync workers, for ``gatehouse serve --server gunicorn``.

A sync worker reads the whole request body in the worker itself: put a
buffering proxy in front, or two clients sending a body slowly stall it until
gunicorn's timeout kills the worker (Granian, the default, does not have this).
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from gunicorn import glogging
from gunicorn.app.base import BaseApplication

from app import metrics
from app.logs import JsonFormatter

#: seconds a busy worker gets after SIGTERM, then is killed
GRACEFUL_TIMEOUT = 5
#: seconds of silence after which the master kills a worker
TIMEOUT = 30
#: seconds an idle keep-alive connection is held
KEEPALIVE = 5


class JsonLogger(glogging.Logger):
    """gunicorn's own log lines as JSON too: every log line is one JSON object.

    gunicorn's access log stays off: the app writes its own access lines
    (``app.instrumentation``), the same under every server.
    """

    def _set_handler(self, log, output, fmt, stream=None) -> None:
        super()._set_handler(log, output, JsonFormatter(), stream)


class _Gunicorn(BaseApplication):
    def __init__(self, options: dict[str, object], load: Callable[[], Flask]) -> None:
        self.options = options
        self._load = load
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            if key in self.cfg.settings:  # skip settings an older gunicorn lacks
                self.cfg.set(key, value)

    def load(self):
        return self._load()


def _child_exit(_server, worker) -> None:
    """gunicorn's hook in the master when a worker has exited."""
    metrics.worker_exited(worker.pid)


def bind_address(host: str, port: int) -> str:
    """``host:port``, an IPv6 host in brackets (RFC 3986 §3.2.2): ``[::1]:8000``."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def run(host: str, port: int, workers: int, threads: int | None, load: Callable[[], Flask]) -> None:
    """Serve until stopped (SIGTERM: in-flight requests finish within ``GRACEFUL_TIMEOUT``)."""
    _Gunicorn(
        {
            "bind": bind_address(host, port),
            "workers": workers,
            "threads": threads or 1,
            "accesslog": None,
            "errorlog": "-",
            "logger_class": JsonLogger,
            "child_exit": _child_exit,
            "control_socket_disable": True,
            "graceful_timeout": GRACEFUL_TIMEOUT,
            "timeout": TIMEOUT,
            "keepalive": KEEPALIVE,
        },
        load,
    ).run()

"""Granian in WSGI mode, the default server of ``gatehouse serve``.

Settings, each deliberate (measured in README, "Benchmarks"; Granian 2.8):

- ``blocking_threads``: a pool of 16 Python threads per worker. Granian hands a
  request to a thread once its headers are in; a client sending its body slowly
  holds that thread (Granian has no body-read timeout) but never the worker: the
  other threads go on serving. Granian's default (256) is more than CPU-bound
  work can use; one thread would let two slow clients stop a worker. The threads
  of a worker share one GIL, and fewer of them contend less: 16 against 32 served
  a median 11% more RS256 ``/token`` and 7% more ``/introspect`` a second, with a
  shorter p99, in 5 interleaved pairs of runs (2 workers, 32 connections).
- ``runtime_threads=1``: one Rust I/O thread per worker is plenty for loopback
  and proxy traffic on a few cores.
- ``respawn_failed_workers``: a worker that dies (a SIGKILL, an OOM kill) is
  replaced; without it Granian shuts the whole server down.
- ``workers_kill_timeout``: on SIGTERM, in-flight requests get 10 s to finish;
  without a bound, one slow client could hold the shutdown forever.
- ``header_read_timeout``: 10 s to send the request head.

Logs: Granian's own lines through ``app.logs.JsonFormatter``; its access log
stays off (the app writes its own, ``app.instrumentation``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask
from granian import Granian
from granian.constants import Interfaces
from granian.http import HTTP1Settings
from granian.log import LogLevels

BLOCKING_THREADS = 16
KILL_TIMEOUT = 10
HEADER_READ_TIMEOUT_MS = 10_000

LOG_CONFIG: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "app.logs.JsonFormatter"}},
    "handlers": {
        "json": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "stream": "ext://sys.stderr",
        }
    },
    "loggers": {
        "_granian": {"handlers": ["json"], "level": "INFO", "propagate": False},
    },
}


def run(host: str, port: int, workers: int, threads: int | None, load: Callable[[], Flask]) -> None:
    """Serve until stopped (SIGTERM: in-flight requests finish, within ``KILL_TIMEOUT``)."""
    server = Granian(
        "app:create_app",  # a label only: ``load`` builds each worker's app
        interface=Interfaces.WSGI,
        address=host,
        port=port,
        workers=workers,
        runtime_threads=1,
        blocking_threads=threads or BLOCKING_THREADS,
        respawn_failed_workers=True,
        workers_kill_timeout=KILL_TIMEOUT,
        http1_settings=HTTP1Settings(header_read_timeout=HEADER_READ_TIMEOUT_MS),
        log_level=LogLevels.info,
        log_dictconfig=LOG_CONFIG,
        log_access=False,
    )
    server.serve(target_loader=lambda _target: load())

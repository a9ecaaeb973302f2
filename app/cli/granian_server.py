"""Granian, the default server of ``gatehouse serve``, on its RSGI interface.

Settings, each deliberate (measured in README, "Benchmarks"; Granian 2.8):

- ``interface=RSGI`` with ``app.cli.granian_rsgi``: Granian reads each body on
  its event loop (a slow client holds no thread, and has ``BODY_TIMEOUT`` to
  finish), then ``/token`` and ``/introspect`` run on the loop in arrival order
  and everything else in a pool of ``APP_THREADS`` threads. Against Granian's
  WSGI interface with 16 threads: RS256 ``/token`` p99 37 ms instead of 73, at
  the same rate (3 interleaved rounds, 2 workers, 32 connections).
- ``loop=uvloop``: the loop runs every request; uvloop's costs less per request
  than asyncio's own (``/introspect`` +9% in the same kind of run).
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
from granian.constants import Interfaces, Loops
from granian.http import HTTP1Settings
from granian.log import LogLevels

from app import metrics
from app.cli.granian_rsgi import INLINE, RSGIBridge

#: threads per worker for requests that do not run on the loop (console, API, ...)
APP_THREADS = 4
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
        interface=Interfaces.RSGI,
        loop=Loops.uvloop,
        address=host,
        port=port,
        workers=workers,
        runtime_threads=1,
        respawn_failed_workers=True,
        workers_kill_timeout=KILL_TIMEOUT,
        http1_settings=HTTP1Settings(header_read_timeout=HEADER_READ_TIMEOUT_MS),
        log_level=LogLevels.info,
        log_dictconfig=LOG_CONFIG,
        log_access=False,
    )
    server.serve(target_loader=lambda _target: bridge(load(), threads or APP_THREADS))


def bridge(app: Flask, threads: int = APP_THREADS, inline: frozenset[str] = INLINE) -> RSGIBridge:
    """``app`` as Granian's RSGI interface serves it, with its own body limit; a worker that
    stops hands over its last counts (Granian's workers end without ``atexit``)."""
    limit = app.config["MAX_CONTENT_LENGTH"]
    return RSGIBridge(app, limit, threads, inline=inline, on_stop=metrics.flush)


def create_rsgi_app() -> RSGIBridge:
    """Granian's ``--factory`` target for the benchmark's direct launch (``bench/kinds.py``).

    The app as ``create_app`` builds it, as gunicorn's direct launch there gets it
    (``app:create_app()``), so ``--servers`` compares the servers alone: neither
    settles the heap nor starts what ``serve``'s ``worker_app`` adds.
    """
    from app import create_app

    return bridge(create_app())

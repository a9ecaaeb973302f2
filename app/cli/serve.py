"""``gatehouse serve``: the production server, Granian (the default) or gunicorn.

Whatever the server, the launcher does the same: it checks that a signing key
exists and the port is free, gives the instance an empty metrics directory
(``metrics.prepare_for_server``), reads the configuration once, takes the
``GATEHOUSE_*`` variables out of the process environment (they hold the database
URL and the session key; Granian's WSGI interface copies the environment into
every request's environ, and a process the server starts would inherit it),
and builds each worker's app with ``worker_app``.

Granian was chosen by measurement (README, "Benchmarks"): it costs less CPU per
request than gunicorn's sync workers and keeps connections alive. It serves the
app through its RSGI interface (``app.cli.granian_rsgi``): its event loop reads
each body, so clients that send their body slowly hold no thread, and are
answered 408 after 10 s.
"""

from __future__ import annotations

import functools
import os
import socket
from collections.abc import Mapping

import click
from flask import Flask
from flask.cli import with_appcontext

from app import create_app, instrumentation, metrics, process
from app.cli import granian_server, gunicorn_server
from app.cli.output import domain_errors
from app.config import read_environment
from app.logs import configure_process_logging
from app.services import change_listener, metric_history
from app.services.runtime import EXTENSION as RUNTIME
from app.services.runtime import runtime, settings

SERVERS = {"granian": granian_server.run, "gunicorn": gunicorn_server.run}


def worker_app(variables: Mapping[str, str], access_log: bool) -> Flask:
    """The app of one worker process, from the configuration the launcher read: it
    listens for client changes (``change_listener``), writes access lines when asked,
    and one worker of the instance records its counters for the dashboard. Its heap is
    settled last (``process.settle_heap``), so what the app built never stalls it."""
    configure_process_logging()
    app = create_app(variables)
    state = app.extensions[RUNTIME]
    change_listener.listen(state.changes, state.settings.database_url)
    metric_history.start_sampler(app)
    if access_log:
        instrumentation.log_access(app)
    process.settle_heap()
    return app


def _check_port_free(host: str, port: int) -> None:
    """Say plainly that the address is taken, instead of the server's retries and log lines."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror}") from None


def _configuration() -> dict[str, str]:
    """The variables of this start, then out of the process environment (see above)."""
    variables = {k: v for k, v in read_environment().items() if k.startswith("GATEHOUSE_")}
    for name in list(os.environ):
        if name.startswith("GATEHOUSE_"):
            del os.environ[name]
    return variables


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--workers",
    default=os.cpu_count() or 1,
    show_default="the number of CPUs",
    type=click.IntRange(1, 64),
)
@click.option(
    "--server",
    type=click.Choice(sorted(SERVERS)),
    default="granian",
    show_default=True,
    help="The WSGI server.",
)
@click.option(
    "--threads",
    default=None,
    type=click.IntRange(1, 256),
    help="Threads per worker: Granian's for requests other than /token and /introspect "
    "(default 4), gunicorn's for every request (default 1).",
)
@click.option("--access-log", is_flag=True, help="Also log one JSON line per request.")
@with_appcontext
@domain_errors
def serve(
    host: str, port: int, workers: int, server: str, threads: int | None, access_log: bool
) -> None:
    """Serve Gatehouse on HOST:PORT."""
    configure_process_logging()
    runtime().keys.signing_key()  # fail now, clearly, if there is no key
    _check_port_free(host, port)
    bind = gunicorn_server.bind_address(host, port)
    try:
        metrics.prepare_for_server(settings().instance_dir, bind)
    except OSError as exc:
        raise click.ClickException(f"cannot prepare the metrics directory: {exc}") from None
    load = functools.partial(worker_app, _configuration(), access_log)
    SERVERS[server](host, port, workers, threads, load)

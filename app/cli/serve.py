"""``gatehouse serve``: the production server (gunicorn) on the current app factory.

Whatever the server, a launcher makes the same three calls: ``metrics.prepare_for_server``
before any worker starts (the instance's metrics directory), ``worker_app`` to build the
app in each worker, and ``metrics.worker_exited`` when a worker ends.
"""

from __future__ import annotations

import socket

import click
from flask import Flask
from flask.cli import with_appcontext
from gunicorn import glogging
from gunicorn.app.base import BaseApplication

from app import create_app, metrics
from app.cli.output import domain_errors
from app.logs import (
    ACCESS_ATOM,
    REDACTED,
    JsonFormatter,
    configure_process_logging,
    redact_query,
    redact_target,
)
from app.security.secrets import is_plausible_client_id
from app.services import change_listener, metric_history
from app.services.runtime import EXTENSION as RUNTIME
from app.services.runtime import runtime, settings


class JsonLogger(glogging.Logger):
    """gunicorn's own log lines as JSON too: every log line is one JSON object.

    Unlike ``logconfig_dict``, this keeps gunicorn's rule that access lines are
    written only when asked for (``--access-log``): one per request costs the hot path.
    An access line never holds a parameter value from the URL or the ``Referer``, nor
    a request header, response header (but our own ``X-Request-Id``) or environment
    variable (``atoms``).
    """

    def _set_handler(self, log, output, fmt, stream=None) -> None:
        super()._set_handler(log, output, JsonFormatter(), stream)

    def atoms(self, resp, req, environ, request_time) -> dict[str, object]:
        """gunicorn's plain atoms only, the URL's and the ``Referer``'s values redacted."""
        atoms = super().atoms(resp, req, environ, request_time)
        kept = {
            name: value
            for name, value in atoms.items()
            if not name.startswith("{") or name == ACCESS_ATOM
        }
        user = str(kept.get("u", "-"))
        kept.update(
            r=f"{environ['REQUEST_METHOD']} {redact_target(environ['RAW_URI'])} "
            f"{environ['SERVER_PROTOCOL']}",
            q=redact_query(str(kept.get("q") or "")),
            f=redact_target(str(kept.get("f", "-"))),
            # the Basic user name is a client id, unless a secret was sent in its place
            u=user if user == "-" or is_plausible_client_id(user) else REDACTED,
        )
        return kept


class _Gunicorn(BaseApplication):
    def __init__(self, options: dict[str, object]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            if key in self.cfg.settings:  # skip settings an older gunicorn lacks
                self.cfg.set(key, value)

    def load(self):
        return worker_app()


def worker_app() -> Flask:
    """The app of one worker process: it listens for client changes (``change_listener``),
    and one worker of the instance records its counters for the dashboard
    (``metric_history``)."""
    app = create_app()
    state = app.extensions[RUNTIME]
    change_listener.listen(state.changes, state.settings.database_url)
    metric_history.start_sampler(app)
    return app


def _child_exit(_server, worker) -> None:
    """gunicorn's hook in the master when a worker has exited."""
    metrics.worker_exited(worker.pid)


def _check_port_free(host: str, port: int) -> None:
    """Say plainly that the address is taken, instead of gunicorn's retries and log lines."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror}") from None


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64))
@click.option("--threads", default=1, show_default=True, type=click.IntRange(1, 64))
@click.option("--access-log", is_flag=True, help="Also log one JSON line per request.")
@with_appcontext
@domain_errors
def serve(host: str, port: int, workers: int, threads: int, access_log: bool) -> None:
    """Serve with gunicorn on HOST:PORT."""
    configure_process_logging()
    runtime().keys.signing_key()  # fail now, clearly, if there is no key
    _check_port_free(host, port)
    bind = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    try:
        metrics.prepare_for_server(settings().instance_dir, bind)
    except OSError as exc:
        raise click.ClickException(f"cannot prepare the metrics directory: {exc}") from None
    _Gunicorn(
        {
            "bind": bind,
            "workers": workers,
            "threads": threads,
            "accesslog": "-" if access_log else None,
            "errorlog": "-",
            "logger_class": JsonLogger,
            "child_exit": _child_exit,
            "control_socket_disable": True,
            "graceful_timeout": 5,
            "timeout": 30,
            "keepalive": 5,
        }
    ).run()

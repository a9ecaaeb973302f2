"""The server kinds the harness knows, and the one command line for each.

- ``gunicorn``: sync workers, one thread, gunicorn's pure-Python HTTP parser;
- ``gunicorn-fast``: the same with its C parser (``--http-parser fast``, from
  the ``gunicorn_h1c`` package);
- ``granian``: Granian (a Rust HTTP server) on its RSGI interface, with the app
  behind ``app.cli.granian_rsgi``'s bridge, as ``gatehouse serve`` runs it.

Every kind runs bare Flask (``bench.baseline:app``) and Gatehouse
(``app:create_app``) with the same settings, so the two differ only in the
application. The settings are the ones ``gatehouse serve`` uses for that
server (taken from app/cli/granian_server.py and gunicorn_server.py); ``serve_default`` asks the
installed ``gatehouse serve`` which server it runs when not told.
"""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import dataclass

from app.cli import granian_server, gunicorn_server
from bench.client import HOST

BASELINE = "bench.baseline:app"
GATEHOUSE = "app:create_app"
NAMES = ("granian", "gunicorn", "gunicorn-fast")

# gatehouse serve's settings for each server, from the modules that apply them
GUNICORN = [
    "--worker-class", "sync", "--threads", "1",
    "--keep-alive", str(gunicorn_server.KEEPALIVE), "--timeout", str(gunicorn_server.TIMEOUT),
    "--graceful-timeout", str(gunicorn_server.GRACEFUL_TIMEOUT), "--error-logfile", "-",
]  # fmt: skip
GRANIAN = [
    "--interface", "rsgi", "--loop", "uvloop", "--runtime-threads", "1", "--respawn-failed-workers",
    "--workers-kill-timeout", str(granian_server.KILL_TIMEOUT),
    "--http1-header-read-timeout", str(granian_server.HEADER_READ_TIMEOUT_MS),
]  # fmt: skip

#: each app behind the RSGI bridge, as a Granian ``--factory`` target
GRANIAN_TARGETS = {
    BASELINE: "bench.baseline:rsgi_app",
    GATEHOUSE: "app.cli.granian_server:create_rsgi_app",
}


@dataclass(frozen=True)
class Kind:
    """A server kind; ``parser`` is gunicorn's ``--http-parser`` (None: its default)."""

    name: str
    parser: str | None = None

    @property
    def server(self) -> str:
        """What ``gatehouse serve --server`` calls it."""
        return "granian" if self.name == "granian" else "gunicorn"

    @property
    def kill_after(self) -> float:
        """Seconds after a SIGTERM at which the server kills workers still busy, by force."""
        if self.server == "granian":
            return float(granian_server.KILL_TIMEOUT)
        return float(gunicorn_server.GRACEFUL_TIMEOUT)

    @property
    def label(self) -> str:
        if self.server == "gunicorn" and self.parser is None:
            auto = "fast" if _installed("gunicorn_h1c") else "python"
            return f"gunicorn (parser auto={auto})"
        return self.name

    def missing(self) -> str | None:
        """Why this kind cannot run here, or None."""
        needs = {"granian": "granian", "gunicorn": "gunicorn"}[self.server]
        if not _installed(needs):
            return f"the {needs} package is not installed"
        if self.parser == "fast" and not _installed("gunicorn_h1c"):
            return "gunicorn's C parser needs the gunicorn_h1c package (pip install '.[bench]')"
        return None

    def command(self, app: str, port: int, workers: int) -> list[str]:
        """Serve APP (``BASELINE`` or ``GATEHOUSE``) on 127.0.0.1:PORT with WORKERS workers."""
        if self.server == "granian":
            target = GRANIAN_TARGETS[app]
            return [
                sys.executable, "-m", "granian", *GRANIAN, "--factory", "--host", HOST,
                "--port", str(port), "--workers", str(workers), target,
            ]  # fmt: skip
        target = "app:create_app()" if app == GATEHOUSE else app
        parser = ["--http-parser", self.parser] if self.parser else []
        return [
            sys.executable, "-m", "gunicorn", *GUNICORN, *parser,
            "--bind", f"{HOST}:{port}", "--workers", str(workers), target,
        ]  # fmt: skip


def named(name: str) -> Kind:
    """A kind of the ``--servers`` list; ``gunicorn`` pins the Python parser."""
    if name not in NAMES:
        raise ValueError(f"unknown server {name!r} (known: {', '.join(NAMES)})")
    if name == "granian":
        return Kind("granian")
    return Kind(name, "fast" if name == "gunicorn-fast" else "python")


def for_serve(server: str) -> Kind:
    """The kind ``gatehouse serve --server SERVER`` runs, parser left as serve leaves it."""
    return Kind("granian") if server == "granian" else Kind("gunicorn")


def serve_default() -> tuple[str, tuple[str, ...]]:
    """(the server ``gatehouse serve`` runs by default, the ``--server`` choices it has).

    Without a ``--server`` option, serve is gunicorn only: ("gunicorn", ()).
    """
    from app.cli import cli

    for param in cli.commands["serve"].params:
        if param.name == "server":
            choices = tuple(getattr(param.type, "choices", ()) or ())
            return str(param.default), choices
    return "gunicorn", ()


def serve_command(port: int, workers: int, server: str | None, access_log: bool = False):
    """``python -m app serve``; ``--server`` only when asked (older serves lack it)."""
    command = [
        sys.executable, "-m", "app", "serve", "--host", HOST, "--port", str(port),
        "--workers", str(workers),
    ]  # fmt: skip
    if server:
        command += ["--server", server]
    if access_log:
        command.append("--access-log")
    return command


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None

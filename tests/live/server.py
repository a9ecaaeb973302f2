"""Run ``gatehouse serve`` (Granian by default) and the ``gatehouse`` CLI as real processes.

Shared by ``tests/live`` and ``tests/test_resource.py``. Every process started
here is stopped here: ``running_servers`` terminates each server (it stops
its workers, then itself; the whole process group is killed if it hangs)
however the block exits, and CLI runs are killed at their timeout.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import requests

from tests.helpers import clean_environment

READY_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0
CLI_TIMEOUT = 60.0


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(
    database_url: str, keys_dir: Path, instance_dir: Path, issuer: str, **extra: str
) -> dict[str, str]:
    """The environment of a server or CLI process: ours, and no stray GATEHOUSE_*.

    Servers record no metric samples unless a test asks (``extra``): the test database is
    shared, and a row written in the middle of another test would change its counts.
    """
    return clean_environment(
        GATEHOUSE_DATABASE_URL=database_url,
        GATEHOUSE_KEYS_DIR=keys_dir,
        GATEHOUSE_INSTANCE_DIR=instance_dir,
        GATEHOUSE_ISSUER=issuer,
        PYTHONUNBUFFERED="1",
        **({"GATEHOUSE_METRICS_SAMPLE_SECONDS": "0"} | extra),
    )


def _kill_group(process: subprocess.Popen) -> None:
    """SIGKILL a process we started in its own session, and everything it started."""
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


def run_cli(env: dict[str, str], *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``python -m app ARGS`` in its own process; output captured, bounded in time."""
    command = [sys.executable, "-m", "app", *args]
    with subprocess.Popen(
        command,
        env=env,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    ) as process:
        try:
            stdout, stderr = process.communicate(timeout=CLI_TIMEOUT)
        except subprocess.TimeoutExpired:
            _kill_group(process)
            stdout, stderr = process.communicate()
            raise AssertionError(f"{' '.join(args)} ran over {CLI_TIMEOUT} s:\n{stderr}") from None
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


@dataclass
class LiveServer:
    """A running ``gatehouse serve``: its base URL, environment and log file."""

    url: str
    port: int
    env: dict[str, str]
    cwd: Path
    log_path: Path
    process: subprocess.Popen[bytes]

    def log(self) -> str:
        """Everything the server wrote to stdout and stderr so far."""
        return self.log_path.read_text(errors="replace")

    def wait_ready(self) -> None:
        """Poll /readyz until it answers 200; fail with the server's log otherwise."""
        deadline = time.monotonic() + READY_TIMEOUT
        last = "no answer"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"gatehouse serve exited with {self.process.returncode}:\n{self.log()}"
                )
            try:
                response = requests.get(f"{self.url}/readyz", timeout=1.0)
                if response.status_code == 200:
                    return
                last = f"{response.status_code} {response.text}"
            except requests.ConnectionError as exc:
                last = str(exc)
            time.sleep(0.05)
        raise RuntimeError(f"not ready in {READY_TIMEOUT} s ({last}):\n{self.log()}")


def _launch(
    env: dict[str, str],
    port: int,
    log_path: Path,
    workers: int,
    args: Sequence[str] = (),
    host: str = "127.0.0.1",
) -> LiveServer:
    log_path.parent.mkdir(parents=True, exist_ok=True)
    command = ["serve", "--host", host, "--port", str(port), "--workers", str(workers), *args]
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "app", *command],
            env=env,
            cwd=log_path.parent,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, stopped with it
        )
    url_host = f"[{host}]" if ":" in host else host  # RFC 3986 §3.2.2: an IPv6 literal
    return LiveServer(f"http://{url_host}:{port}", port, env, log_path.parent, log_path, process)


def stop(servers: Sequence[LiveServer]) -> None:
    """SIGTERM every server at once, then wait for each (SIGKILL its group if it hangs)."""
    for server in servers:
        if server.process.poll() is None:
            server.process.terminate()
    for server in servers:
        try:
            server.process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            _kill_group(server.process)
            server.process.wait(timeout=STOP_TIMEOUT)


@contextmanager
def running_servers(
    specs: Sequence[tuple[dict[str, str], int, Path]],
    *,
    workers: int = 2,
    args: Sequence[str] = (),
    while_starting: Callable[[], object] | None = None,
    host: str = "127.0.0.1",
) -> Iterator[list[LiveServer]]:
    """Start one ``gatehouse serve`` per ``(env, port, log_path)``, all ready; stop them after.

    ``args`` are further ``gatehouse serve`` options (``--access-log``).

    ``while_starting`` runs once the processes are launched, before waiting for
    them to be ready (servers take seconds to boot). Each server gets its own
    gunicorn control-socket folder (``XDG_RUNTIME_DIR``): gunicorn 25+ otherwise
    shares ``~/.gunicorn/gunicorn.ctl`` between all instances of a user.
    """
    with ExitStack() as stack:
        runtime_root = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="gh-run-")))
        servers: list[LiveServer] = []
        stack.callback(stop, servers)  # runs before the folder above is removed
        for index, (env, port, log_path) in enumerate(specs):
            runtime_dir = runtime_root / str(index)
            runtime_dir.mkdir()
            env = env | {"XDG_RUNTIME_DIR": str(runtime_dir)}
            servers.append(_launch(env, port, log_path, workers, args, host))
        if while_starting is not None:
            while_starting()
        for server in servers:
            server.wait_ready()
        yield servers


@contextmanager
def running_server(
    env: dict[str, str],
    port: int,
    log_path: Path,
    *,
    workers: int = 2,
    args: Sequence[str] = (),
    host: str = "127.0.0.1",
) -> Iterator[LiveServer]:
    """One ``gatehouse serve`` on ``host``:``port``, ready; stopped when the block exits."""
    specs = [(env, port, log_path)]
    with running_servers(specs, workers=workers, args=args, host=host) as (server,):
        yield server

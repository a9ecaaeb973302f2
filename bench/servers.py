"""Starting, probing and always stopping one server process on loopback.

Each server runs in its own session (a Ctrl-C in the terminal reaches only the
harness, which then stops it in order), and is asked to die with the harness
(``PR_SET_PDEATHSIG``) should the harness itself be killed.
"""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from bench import procs
from bench.client import HOST
from bench.environment import BenchError, base_env

READY_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0
PR_SET_PDEATHSIG = 1


class _Interrupt:
    """SIGINT/SIGTERM unwind (stopping every server) once; repeats wait for that."""

    raised = False

    def __call__(self, signum: int, _frame) -> None:
        if self.raised:
            print("bench: stopping the servers, one moment", file=sys.stderr)
            return
        self.raised = True
        raise KeyboardInterrupt(signal.Signals(signum).name)


def stop_on_signals() -> None:
    """Ctrl-C or a TERM unwinds through the ``finally`` blocks that stop the servers."""
    handler = _Interrupt()
    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def _die_with_parent() -> None:  # runs in the child between fork and exec
    with suppress(Exception):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class Server:
    """A running server process (the root of its tree) and its log files."""

    def __init__(self, name: str, process: subprocess.Popen, port: int, logs: list[Path]):
        self.name = name
        self.process = process
        self.port = port
        self.logs = logs

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def log_tail(self, lines: int = 30) -> str:
        text = []
        for log in self.logs:
            with suppress(OSError):
                text += log.read_text(errors="replace").splitlines()[-lines:]
        return "\n".join(text[-lines:])

    def wait_ready(self, probe: Callable[[], bool]) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if not self.alive():
                raise BenchError(
                    f"{self.name} exited with {self.process.returncode}:\n{self.log_tail()}"
                )
            with suppress(OSError):
                if probe():
                    return
            time.sleep(0.1)
        raise BenchError(f"{self.name} not ready after {READY_TIMEOUT:.0f} s:\n{self.log_tail()}")

    def cpu_seconds(self) -> float:
        return procs.cpu_seconds(self.pid)

    def workers(self) -> list[int]:
        return procs.workers(self.pid)

    def workers_rss(self) -> dict[int, int]:
        return procs.workers_rss(self.pid)

    def wait_idle(self) -> None:
        if not procs.wait_idle(self.pid):
            print(f"bench: warning: {self.name} still busy before a run", file=sys.stderr)

    def stop(self) -> None:
        """SIGTERM the root, wait (bounded), then SIGKILL whatever is left of its session."""
        if self.alive():
            self.process.terminate()
            with suppress(subprocess.TimeoutExpired):
                self.process.wait(STOP_TIMEOUT)
        with suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)  # stray workers, if any
        try:
            self.process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            print(f"bench: warning: {self.name} pid {self.pid} did not exit", file=sys.stderr)


def start(
    name: str,
    command: list[str],
    port: int,
    log_dir: Path,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> Server:
    """Start COMMAND with stdout and stderr in LOG_DIR/NAME.out and NAME.err."""
    logs = [log_dir / f"{name}.out", log_dir / f"{name}.err"]
    with logs[0].open("ab") as out, logs[1].open("ab") as err:
        process = subprocess.Popen(
            command,
            cwd=cwd,
            env=env or base_env(),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            start_new_session=True,
            preexec_fn=_die_with_parent,  # spawned from the main thread only
        )
    return Server(name, process, port, logs)


@contextmanager
def serving(
    name: str,
    command: list[str],
    port: int,
    log_dir: Path,
    probe: Callable[[], bool],
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> Iterator[Server]:
    """Start COMMAND, wait until PROBE passes, yield the server, and always stop it."""
    server = start(name, command, port, log_dir, env, cwd)
    try:
        server.wait_ready(probe)
        yield server
    finally:
        server.stop()

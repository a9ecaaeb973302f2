"""Starting, probing and always stopping one gunicorn server on loopback."""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from bench.environment import BenchError, Credentials, base_env

HOST = "127.0.0.1"
READY_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
FORM = "application/x-www-form-urlencoded"

# Loopback only, never through a proxy from the environment.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def basic(credentials: Credentials) -> str:
    raw = f"{credentials.client_id}:{credentials.secret}".encode()
    return "Basic " + base64.b64encode(raw).decode()


def request(
    port: int, path: str, body: str | None = None, headers: dict[str, str] | None = None
) -> tuple[int, bytes]:
    """One HTTP request to 127.0.0.1:PORT (POST when there is a body); (status, body)."""
    data = body.encode() if body is not None else None
    req = urllib.request.Request(f"http://{HOST}:{port}{path}", data=data, headers=headers or {})
    if data is not None:
        req.add_header("Content-Type", FORM)
    try:
        with _OPENER.open(req, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def fetch_token(port: int, client: Credentials) -> str:
    status, body = request(
        port, "/token", "grant_type=client_credentials", {"Authorization": basic(client)}
    )
    if status != 200:
        raise BenchError(f"POST /token answered {status}: {body[:300]!r}")
    return json.loads(body)["access_token"]


def check_introspection(port: int, introspector: Credentials, token: str) -> None:
    status, body = request(
        port, "/introspect", f"token={token}", {"Authorization": basic(introspector)}
    )
    if status != 200 or not json.loads(body).get("active"):
        raise BenchError(f"POST /introspect answered {status}: {body[:300]!r}")


def baseline_command(port: int, workers: int) -> list[str]:
    """gunicorn on ``bench.baseline:app`` with the settings ``gatehouse serve`` passes."""
    return [
        sys.executable, "-m", "gunicorn",
        "--bind", f"{HOST}:{port}", "--workers", str(workers), "--threads", "1",
        "--worker-class", "sync", "--keep-alive", "5", "--timeout", "30",
        "--graceful-timeout", "5", "--error-logfile", "-",
        "bench.baseline:app",
    ]  # fmt: skip


class Server:
    """A running gunicorn master (in its own process group) and its log file."""

    def __init__(self, process: subprocess.Popen, port: int, log: Path) -> None:
        self.process = process
        self.port = port
        self.log = log

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def wait_ready(self, probe: Callable[[int], bool]) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchError(
                    f"server exited with {self.process.returncode}:\n{self.log_tail()}"
                )
            try:
                if probe(self.port):
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise BenchError(f"server not ready after {READY_TIMEOUT:.0f} s:\n{self.log_tail()}")

    def workers(self) -> list[int]:
        """The pids of the master's children (the gunicorn workers)."""
        master = self.process.pid
        pids = (int(entry.name) for entry in Path("/proc").iterdir() if entry.name.isdigit())
        return sorted(pid for pid in pids if (fields := _stat(pid)) and int(fields[1]) == master)

    def worker_cpu_seconds(self) -> float:
        """User plus system CPU time the workers have used so far."""
        ticks = sum(int(f[11]) + int(f[12]) for pid in self.workers() if (f := _stat(pid)))
        return ticks / os.sysconf("SC_CLK_TCK")

    def worker_rss(self) -> dict[int, int]:
        """VmRSS in KiB of each worker."""
        sizes = {}
        for pid in self.workers():
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        sizes[pid] = int(line.split()[1])
            except OSError:
                continue
        return sizes

    def stop(self) -> None:
        """SIGTERM the master, wait (bounded), then SIGKILL its process group."""
        if self.process.poll() is None:
            self.process.terminate()
            with suppress(subprocess.TimeoutExpired):
                self.process.wait(STOP_TIMEOUT)
        with suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)  # stray workers, if any
        try:
            self.process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            print(f"warning: server pid {self.process.pid} did not exit", file=sys.stderr)


def _stat(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name (state, ppid, …), or None."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name may hold spaces or parentheses: split after the last ")".
    return stat.rsplit(")", 1)[1].split()


@contextmanager
def serving(
    command: list[str],
    port: int,
    log: Path,
    probe: Callable[[int], bool],
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> Iterator[Server]:
    """Start COMMAND, wait until PROBE passes, yield the server, and always stop it."""
    with log.open("ab") as sink:
        process = subprocess.Popen(
            command,
            cwd=cwd,
            env=env or base_env(),
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(process, port, log)
    try:
        server.wait_ready(probe)
        yield server
    finally:
        server.stop()

"""The anchor: node oidc-provider from the shared peer folder, started and always stopped.

``run-peer.sh start PORT 1`` (next to the clone, in ``../shared/peers``) copies
the peer to ``$PEERS_DIR``, installs it from the npm registry on first use,
starts one node process and prints its client and URLs; ``run-peer.sh stop
PORT`` stops it. It issues RS256 JWT access tokens for its default resource
and opaque tokens for ``resource=https://opaque.example.test``: only those can
be introspected.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from bench.environment import ROOT, BenchError, Credentials

FOLDER = ROOT.parent / "shared" / "peers"
SCOPE = "candidates jobs"
JWT_FORM = "grant_type=client_credentials&scope=candidates%20jobs"
OPAQUE_FORM = JWT_FORM + "&resource=https%3A%2F%2Fopaque.example.test"
START_TIMEOUT = 600  # the first start runs `npm ci`


@dataclass(frozen=True)
class Peer:
    pid: int
    client: Credentials
    token_url: str
    introspect_url: str


def unavailable(folder: Path = FOLDER) -> str | None:
    """Why the peer cannot run here, or None."""
    if not (folder / "run-peer.sh").is_file():
        return f"no peer folder at {folder} (run-peer.sh missing)"
    for tool in ("node", "npm", "bash"):
        if not shutil.which(tool):
            return f"{tool} is not installed"
    return None


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("GATEHOUSE_")}


def _script(folder: Path, args: list[str], log: Path, timeout: float) -> str:
    """Run run-peer.sh ARGS in its own session; its stdout (stderr goes to LOG)."""
    with log.open("ab") as err:
        process = subprocess.Popen(
            ["bash", str(folder / "run-peer.sh"), *args],
            env=_env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=err,
            start_new_session=True,
        )
        try:
            out, _ = process.communicate(timeout=timeout)
        except BaseException:
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            raise
    if process.returncode != 0:
        tail = log.read_text(errors="replace")[-2000:]
        raise BenchError(f"run-peer.sh {' '.join(args)} failed ({process.returncode}):\n{tail}")
    return out.decode(errors="replace")


def _parse(output: str) -> Peer:
    values = dict(line.split("=", 1) for line in output.splitlines() if "=" in line)
    try:
        return Peer(
            pid=int(values["PID"]),
            client=Credentials(values["CLIENT_ID"], values["CLIENT_SECRET"]),
            token_url=values["TOKEN_URL"],
            introspect_url=values["INTROSPECT_URL"],
        )
    except (KeyError, ValueError) as exc:
        raise BenchError(f"run-peer.sh start printed no {exc}:\n{output}") from exc


@contextmanager
def running(port: int, log: Path, folder: Path = FOLDER) -> Iterator[Peer]:
    """Start oidc-provider (one node process) on 127.0.0.1:PORT, yield it, always stop it."""
    peer = None
    try:
        peer = _parse(_script(folder, ["start", str(port), "1"], log, START_TIMEOUT))
        yield peer
    finally:
        try:
            _script(folder, ["stop", str(port)], log, 30)
        except (BenchError, subprocess.TimeoutExpired) as exc:
            print(f"bench: warning: stopping oidc-provider: {exc}", file=sys.stderr)
        if peer:  # run-peer.sh stop goes by its pid file: make sure, by the pid it printed
            with suppress(ProcessLookupError, PermissionError):
                os.kill(peer.pid, signal.SIGKILL)

"""``make run``: initialise, then serve with a mail worker beside it, until asked to stop.

What a newcomer needs and nothing else on the terminal: the first admin's
password (once, when it is created), one line saying where the console is once
the server answers, the server's logs, and a clean stop (exit status 0) on
Ctrl-C or SIGTERM.

``make`` does not pass a SIGINT it alone receives to its recipe (GNU make then
waits for the recipe to end), so this also stops when ``make`` has been told
to stop: a fatal signal makes make reset its handler to the default, which
shows in ``/proc/<make>/status`` (Linux), and when make goes away altogether.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

BIN = Path(sys.executable).parent
GATEHOUSE = str(BIN / "gatehouse")
FATAL = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def _caught_signals(pid: int) -> int | None:
    """The mask of signals process ``pid`` has handlers for, or None if unknown."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("SigCgt:"):
                return int(line.split()[1], 16)
    except (OSError, ValueError):
        return None
    return None


def _parent_stopping(parent: int, watched: int | None) -> bool:
    """The parent is gone, or stopped catching a fatal signal it caught at our start."""
    if os.getppid() != parent:
        return True
    caught = _caught_signals(parent)
    return watched is not None and caught is not None and (watched & ~caught) != 0


def _mask(signals: tuple[signal.Signals, ...]) -> int:
    return sum(1 << (sig - 1) for sig in signals)


def _gatehouse_json(*args: str) -> object:
    result = subprocess.run([GATEHOUSE, *args, "--json"], capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(result.stderr.strip() or f"gatehouse {' '.join(args)} failed")
    return json.loads(result.stdout)


def _init() -> str:
    """Schema, key, catalogue and the first admin; the email of an admin to sign in as."""
    created = _gatehouse_json("init", "--admin")
    assert isinstance(created, dict)
    if "admin_password" in created:
        print(f"First administrator: {created['admin_created']}")
        print(f"  password: {created['admin_password']}  (shown once: store it now)")
    people = _gatehouse_json("users", "list")
    assert isinstance(people, list)
    admins = [p["email"] for p in people if p["role"] == "admin" and p["active"]]
    return created.get("admin_created") or (admins[0] if admins else "an administrator")


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/readyz", timeout=1) as response:  # noqa: S310
            return response.status == 200
    except OSError:
        return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", default="8000")
    args = parser.parse_args()
    host = f"[{args.host}]" if ":" in args.host else args.host
    url = f"http://{host}:{args.port}"

    stop = {"asked": False}

    def ask_to_stop(_signum, _frame) -> None:
        stop["asked"] = True

    for sig in FATAL:
        signal.signal(sig, ask_to_stop)
    parent = os.getppid()
    caught = _caught_signals(parent)
    watched = caught & _mask(FATAL) if caught is not None else None

    admin = _init()
    worker = subprocess.Popen([GATEHOUSE, "worker"])
    server = subprocess.Popen([GATEHOUSE, "serve", "--host", args.host, "--port", args.port])
    announced = False
    while not stop["asked"] and server.poll() is None and worker.poll() is None:
        if not announced and _ready(url):
            print(f"\nGatehouse is ready: open {url}/login and sign in as {admin}.", flush=True)
            announced = True
        if _parent_stopping(parent, watched):
            break
        time.sleep(0.3)
    failed = server.poll() not in (None, 0) or worker.poll() not in (None, 0)
    for child in (server, worker):
        if child.poll() is None:
            child.terminate()
    for child in (server, worker):
        child.wait()
    return 1 if failed and not stop["asked"] else 0


if __name__ == "__main__":
    sys.exit(main())

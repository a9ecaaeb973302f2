"""Facts printed with every run, so that a figure can be judged."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
from datetime import datetime
from importlib import metadata
from pathlib import Path


def _first_line(command: list[str]) -> str:
    if not shutil.which(command[0]):
        return "not found"
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    lines = (done.stdout or done.stderr).strip().splitlines()
    return lines[0].strip() if lines else "unknown"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() in ("model name", "Model", "cpu model"):
                return value.strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def facts() -> list[tuple[str, str]]:
    packages = ("granian", "gunicorn", "gunicorn_h1c", "flask", "authlib", "cryptography")
    return [
        ("date", datetime.now().astimezone().isoformat(timespec="seconds")),
        ("nproc", _first_line(["nproc"])),
        ("cpu", _cpu_model()),
        ("python", platform.python_version()),
        ("kernel", platform.release()),
        ("node", _first_line(["node", "--version"])),
        ("wrk", _first_line(["wrk", "--version"]).split(" Copyright")[0]),
        ("packages", ", ".join(f"{p} {version(p)}" for p in packages)),
    ]

"""The performance targets, the machine description and the results table."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
from dataclasses import dataclass
from datetime import datetime
from importlib import metadata
from pathlib import Path

from bench.load import Result

P99_TOKEN_MS = 25.0


@dataclass(frozen=True)
class Target:
    """A performance target: a share of the baseline rate, maybe a p99, zero errors."""

    ratio: float | None = None
    p99_ms: float | None = None

    def describe(self) -> str:
        parts = []
        if self.ratio is not None:
            parts.append(f">={self.ratio:.0%}")
        if self.p99_ms is not None:
            parts.append(f"p99<{self.p99_ms:g}ms")
        parts.append("0 err")
        return ", ".join(parts)

    def misses(self, result: Result, baseline_rate: float) -> list[str]:
        missed = []
        if self.ratio is not None and result.rate < self.ratio * baseline_rate:
            missed.append("rate")
        if self.p99_ms is not None and result.p99_us / 1000 >= self.p99_ms:
            missed.append("p99")
        if result.errors:
            missed.append("errors")
        return missed


def target_for(scenario: str, alg: str) -> Target:
    if scenario == "/token":
        return Target(ratio=0.60 if alg == "ES256" else 0.50, p99_ms=P99_TOKEN_MS)
    if scenario == "/introspect":
        return Target(ratio=0.70)
    return Target()


@dataclass(frozen=True)
class Row:
    scenario: str
    database: str
    alg: str
    result: Result
    baseline_rate: float
    #: CPU seconds the server's workers spent per request, in microseconds
    cpu_us: float

    @property
    def is_baseline(self) -> bool:
        return self.scenario == "baseline"

    @property
    def target(self) -> Target:
        return target_for(self.scenario, self.alg)

    @property
    def ratio(self) -> float:
        return self.result.rate / self.baseline_rate if self.baseline_rate else 0.0

    @property
    def misses(self) -> list[str]:
        return self.target.misses(self.result, self.baseline_rate)

    def cells(self) -> list[str]:
        r = self.result
        errors = str(r.errors)
        if r.non200 and r.last_status:
            errors += f" (HTTP {r.last_status})"
        if self.is_baseline:
            ratio, target = "100%", "-"
            verdict = "FAIL: errors" if r.errors else "-"
        else:
            ratio, target = f"{self.ratio:.0%}", self.target.describe()
            verdict = "FAIL: " + ", ".join(self.misses) if self.misses else "pass"
        return [
            self.scenario,
            self.database,
            self.alg,
            f"{r.rate:,.0f}",
            f"{r.p50_us / 1000:.1f}",
            f"{r.p99_us / 1000:.1f}",
            errors,
            f"{self.cpu_us:.0f}",
            ratio,
            target,
            verdict,
        ]


HEADERS = [
    "scenario",
    "db",
    "alg",
    "req/s",
    "p50 ms",
    "p99 ms",
    "errors",
    "server us/req",
    "vs base",
    "target",
    "result",
]
NUMERIC = {3, 4, 5, 6, 7, 8}


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


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def machine() -> list[tuple[str, str]]:
    """Facts to print with every run, so a figure can be judged."""
    return [
        ("date", datetime.now().astimezone().isoformat(timespec="seconds")),
        ("nproc", _first_line(["nproc"])),
        ("cpu", _cpu_model()),
        ("python", platform.python_version()),
        ("kernel", platform.release()),
        ("wrk", _first_line(["wrk", "--version"]).split(" Copyright")[0]),
        ("gunicorn", _version("gunicorn")),
        ("flask", _version("flask")),
        ("authlib", _version("authlib")),
    ]


def _align(rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for row in rows:
        cells = [
            cell.rjust(widths[i]) if i in NUMERIC else cell.ljust(widths[i])
            for i, cell in enumerate(row)
        ]
        lines.append("  ".join(cells).rstrip())
    return lines


def render(
    facts: list[tuple[str, str]], settings: str, rows: list[Row], notes: list[str], markdown: bool
) -> str:
    body = [row.cells() for row in rows]
    if markdown:
        out = [f"- **{key}**: {value}" for key, value in facts]
        out += [f"- **settings**: {settings}", ""]
        out.append("| " + " | ".join(HEADERS) + " |")
        out.append(
            "|" + "|".join("---:" if i in NUMERIC else "---" for i in range(len(HEADERS))) + "|"
        )
        out += ["| " + " | ".join(cells) + " |" for cells in body]
        if notes:
            out += [""] + [f"- {note}" for note in notes]
        return "\n".join(out)
    width = max(len(key) for key, _ in facts + [("settings", "")])
    out = [f"{key.ljust(width)}  {value}" for key, value in facts]
    out += [f"{'settings'.ljust(width)}  {settings}", ""]
    out += _align([HEADERS, *body])
    if notes:
        out += [""] + notes
    return "\n".join(out)

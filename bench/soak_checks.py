"""The soak's measurements and verdicts: worker memory, a probe loop, the JSON logs.

Each check ends as a ``Check``: passed or not, and the lines that say why.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench import client
from bench.environment import Credentials
from bench.load import Result


@dataclass
class Check:
    name: str
    passed: bool
    details: list[str] = field(default_factory=list)

    def render(self) -> str:
        head = f"{'PASS' if self.passed else 'FAIL'}  {self.name}"
        return "\n".join([head] + [f"      {line}" for line in self.details])


def mib(kib: int) -> str:
    return f"{kib / 1024:.1f} MiB"


@dataclass
class Memory:
    """Every worker's VmRSS through the memory phase, with the requests served before it."""

    limit: float  # allowed growth after warm-up, e.g. 0.05
    warmup: int  # requests before the reference sample
    samples: list[tuple[int, dict[int, int]]] = field(default_factory=list)

    def add(self, served: int, rss: dict[int, int]) -> None:
        self.samples.append((served, rss))

    def judge(self) -> tuple[bool, list[str]]:
        start = next((i for i, (n, _) in enumerate(self.samples) if n >= self.warmup), None)
        if start is None or start == len(self.samples) - 1:
            return False, [f"no sample after the {self.warmup:,}-request warm-up"]
        served, reference = self.samples[start]
        later = [rss for _, rss in self.samples[start + 1 :]]
        ok, lines = True, []
        for pid, ref in sorted(reference.items()):
            sizes = [rss[pid] for rss in later if pid in rss]
            if len(sizes) < len(later):
                ok = False
                lines.append(f"worker {pid} disappeared during the memory phase")
                continue
            peak, growth = max(sizes), (max(sizes) - ref) / ref
            ok = ok and growth <= self.limit
            lines.append(
                f"worker {pid}: {mib(ref)} after {served:,} requests, peak {mib(peak)} "
                f"({growth:+.1%}), last {mib(sizes[-1])} (limit +{self.limit:.0%})"
            )
        newcomers = {pid for rss in later for pid in rss} - set(reference)
        if newcomers:
            ok = False
            lines.append(f"new workers appeared: {sorted(newcomers)} (a worker was replaced)")
        return ok and bool(reference), lines


class Probe(threading.Thread):
    """POST /token again and again on fresh connections; when each ended and how."""

    def __init__(self, token_url: str, credentials: Credentials) -> None:
        super().__init__(name="soak-probe", daemon=True)
        self.url = token_url
        self.credentials = credentials
        self.results: list[tuple[float, bool, str]] = []  # (time it ended, ok, what)
        self.halt = threading.Event()

    def run(self) -> None:
        auth = {"Authorization": client.basic(self.credentials)}
        while not self.halt.is_set():
            try:
                status, _ = client.request(self.url, client.GRANT_FORM, auth, timeout=2)
                self.results.append((time.monotonic(), status == 200, f"HTTP {status}"))
            except OSError as exc:
                self.results.append((time.monotonic(), False, type(exc).__name__))
            time.sleep(0.01)

    def stop(self) -> None:
        self.halt.set()
        self.join(5)

    def save(self, path: Path, moment: float) -> None:
        """The probe timeline, seconds from MOMENT (the kill), for a look with --keep."""
        lines = [
            f"{t - moment:+.3f}\t{'ok' if ok else 'FAILED'}\t{what}" for t, ok, what in self.results
        ]
        path.write_text("\n".join(lines) + "\n")

    def gaps(self, moment: float) -> tuple[float, float, int, int, list[str]]:
        """(longest gap before MOMENT, longest from the last success before it on,
        successes after, failures after, kinds of failure)."""
        oks = [t for t, ok, _ in self.results if ok]
        before = [t for t in oks if t <= moment]
        after = [t for t in oks if t > moment]

        def longest(times: list[float]) -> float:
            return max((b - a for a, b in zip(times, times[1:], strict=False)), default=0.0)

        since = ([before[-1]] if before else [moment]) + after
        failed = [what for t, ok, what in self.results if not ok and t > moment]
        return longest(before), longest(since), len(after), len(failed), sorted(set(failed))


def _is_token_access(entry: dict) -> bool:
    """An access line of POST /token (the app writes them, logger ``app.access``)."""
    target = str(entry.get("target", "")).split("?", 1)[0]
    return _is_access(entry) and entry.get("method") == "POST" and target == "/token"


def _is_access(entry: dict) -> bool:
    return entry.get("logger") == "app.access"


def token_accesses(path: Path, offset: int) -> int:
    """POST /token access lines in PATH after byte OFFSET."""
    with path.open("rb") as fh:
        fh.seek(offset)
        count = 0
        for line in fh:
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            count += isinstance(entry, dict) and _is_token_access(entry)
    return count


def json_lines(paths: list[Path]) -> Check:
    """Every line of every log a JSON object, and access lines among them."""
    total = access = 0
    bad: list[str] = []
    for path in paths:
        with path.open("rb") as fh:
            for number, raw in enumerate(fh, 1):
                total += 1
                try:
                    entry = json.loads(raw)
                except ValueError:
                    entry = None
                if not isinstance(entry, dict):
                    bad.append(f"{path.name}:{number}: {raw[:160].decode(errors='replace')!r}")
                    continue
                access += _is_access(entry)
    details = [
        f"{total:,} lines in {len(paths)} files (stdout and stderr of each server run), "
        f"{access:,} of them access lines, {len(bad):,} not a JSON object"
    ]
    details += [f"not JSON: {line}" for line in bad[:5]]
    if not access:
        details.append("no access line: --access-log wrote nothing recognisable")
    return Check("logs: one JSON object per line", not bad and access > 0, details)


def error_summary(results: list[Result]) -> str:
    """'0', or each kind of error wrk counted, with the last non-200 status seen."""
    status = next((r.last_status for r in reversed(results) if r.last_status), 0)
    kinds_ = [
        (f"HTTP {status}" if status else "non-200", sum(r.non200 for r in results)),
        ("not sent", sum(r.connect_errors + r.write_errors for r in results)),
        ("closed before a response", sum(r.read_errors for r in results)),
        ("timeouts", sum(r.timeouts for r in results)),
    ]
    return ", ".join(f"{n} {what}" for what, n in kinds_ if n) or "0"


def sigterm_verdict(
    result: Result, handled: int, code: int | None, took: float, kill_after: float
) -> Check:
    """Judge a SIGTERM under load from wrk's counts and the access log's (HANDLED)."""
    # Both servers let a busy worker finish until a deadline, then kill it by force:
    # an exit before that deadline cut no request short.
    graceful = code is not None and took < kill_after
    details = [
        f"server exited with {code} {took:.1f} s after SIGTERM "
        f"({'before' if graceful else 'NOT before'} the {kill_after:.0f} s after "
        "which it kills busy workers)"
        if code is not None
        else "server did NOT exit within 40 s",
        f"wrk: {result.requests:,} responses, {result.non200} of them failed (not 200), "
        f"{result.timeouts} timeouts",
        # wrk counts a refused connection as a failed write: the request was never sent
        f"new connections refused after the shutdown (never sent): "
        f"{result.connect_errors + result.write_errors:,}",
        f"connections closed before a response: {result.read_errors}",
        f"the access log holds {handled:,} POST /token requests of this phase",
    ]
    # Every request the application handled is in the access log; one it handled but
    # never answered is an in-flight failure. A closed connection with no such request
    # behind it carried a request the application never read (safe to retry).
    if handled >= result.requests:
        lost = handled - result.requests
        details.append(
            f"handled but never answered (in-flight failures): {lost}; "
            f"{max(0, result.read_errors - lost)} closed connections carried requests "
            "the application never read"
        )
        in_flight_ok = lost == 0
    else:
        details.append(
            f"the access log lacks {result.requests - handled:,} of the responses wrk got "
            "(lines lost at shutdown?), so a closed connection cannot be told apart from "
            "a request cut in flight: only zero closed connections pass"
        )
        in_flight_ok = result.read_errors == 0
    ok = graceful and result.requests > 0 and in_flight_ok
    ok = ok and not result.non200 and not result.timeouts
    return Check("SIGTERM under load: in-flight requests complete", ok, details)

"""Prometheus metrics, counted across every worker of an instance: the only prometheus import.

A served instance runs several worker processes, and a scrape reaches one of
them. Each worker therefore writes its counters to memory-mapped files in the
instance's own directory (prometheus-client's multiprocess mode), and
``/metrics`` sums the files of every worker, living or exited, so the numbers
are the instance's, whichever worker answers. The server launcher calls
``prepare_for_server`` before its workers start and ``worker_exited`` when one
ends. Without that directory (tests, the CLI) counters live in this process.

Label values come only from the fixed sets below and from the app's own route
rules: never from a request, so no client-supplied string becomes a series.
To add a failure reason, add it to ``FAILURE_REASONS``.

The counts of the hot paths (tokens issued, introspections, request latencies)
are tallied in plain dictionaries first and handed to prometheus-client in
batches (``app.metric_tally``): at the latest ``FLUSH_EVERY`` seconds later, at once when
this process answers a scrape, and when a served worker stops. A worker killed
with SIGKILL loses at most its last ``FLUSH_EVERY`` seconds of those counts.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path

from prometheus_client import CONTENT_TYPE_LATEST as CONTENT_TYPE
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, values
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

from app import process
from app.metric_tally import FLUSH_EVERY, Counts, Observations, Tally

__all__ = ["CONTENT_TYPE", "FLUSH_EVERY"]

#: where prometheus-client's multiprocess mode keeps each worker's files
DIRECTORY_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
#: why a client authentication failed; the HTTP answer is the same for all of them
FAILURE_REASONS = (
    "missing",  # no credentials at all
    "malformed",  # a bad Authorization header, or a secret not in Gatehouse's format
    "unknown_or_wrong",  # no such client, or not its secret
    "expired",  # the right secret of an expired client
    "revoked",  # the right secret of a revoked client
    "bearer_token",  # a bearer token that is not valid now (at /introspect, /revocations)
    "assertion",  # a client assertion refused (private_key_jwt: signature, claims, replay)
    "network",  # right credentials from outside the client's allowed networks
)
INTROSPECTION_RESULTS = ("active", "inactive")
REVOCATION_KINDS = ("client", "token")
GRANTS = ("client_credentials",)
ALGORITHMS = ("RS256", "ES256", "EdDSA")
STATUS_CLASSES = ("1xx", "2xx", "3xx", "4xx", "5xx")
#: the route label of a request no route matched (a 404 on any path)
UNMATCHED = "unmatched"
OTHER = "other"
#: request latency buckets (seconds): a /token request takes about a millisecond
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_STARTED_FILE = "started"


class _Metrics:
    """This process's metric objects, with a child for every fixed label value (so that each
    series reads 0 before its first event, which ``rate()`` and alerts need)."""

    def __init__(self) -> None:
        tokens = Counter(
            "gatehouse_tokens_issued",
            "Access tokens issued, by grant type and signing algorithm.",
            ["grant", "alg"],
            registry=None,
        )
        failures = Counter(
            "gatehouse_client_auth_failures",
            "Failed client authentications, by reason (the client sees one answer for all).",
            ["reason"],
            registry=None,
        )
        introspections = Counter(
            "gatehouse_introspections",
            "Token introspections (RFC 7662), by result.",
            ["result"],
            registry=None,
        )
        revocations = Counter(
            "gatehouse_revocations",
            "Revocations made through this instance: whole clients, or single tokens (/revoke).",
            ["kind"],
            registry=None,
        )
        self.leak_reports = Counter(
            "gatehouse_leak_reports",
            "Leaked-credential reports received at /credentials/revoke.",
            registry=None,
        )
        self.latency = Histogram(
            "gatehouse_http_request_duration_seconds",
            "Time to answer a request, by route rule and status class.",
            ["route", "status"],
            buckets=BUCKETS,
            registry=None,
        )
        self.all = (tokens, failures, introspections, revocations, self.leak_reports, self.latency)
        self.tokens = {(g, a): tokens.labels(g, a) for g in GRANTS for a in ALGORITHMS}
        self.failures = {reason: failures.labels(reason) for reason in FAILURE_REASONS}
        self.introspections = {r: introspections.labels(r) for r in INTROSPECTION_RESULTS}
        self.revocations = {kind: revocations.labels(kind) for kind in REVOCATION_KINDS}
        self.leak_reports.inc(0)
        self._latency_children: dict[tuple[str, int], Histogram] = {}

    def latency_child(self, route: str, status: int) -> Histogram:
        key = (route, status)
        child = self._latency_children.get(key)
        if child is None:
            klass = f"{status // 100}xx"
            child = self.latency.labels(route, klass if klass in STATUS_CLASSES else OTHER)
            self._latency_children[key] = child
        return child


_built: _Metrics | None = None
_building = threading.Lock()


def _metrics() -> _Metrics:
    """The process's metrics, built on first use: after a server launcher set up the directory,
    and in each worker process (the files are per process). Built once: two objects for one
    series in one process would overwrite each other's counts in the shared file."""
    global _built
    if _built is None:
        with _building:
            if _built is None:
                if shared_directory():
                    # prometheus-client picks its value class when first imported, which
                    # may be before the launcher named the directory (a fork); and it asks
                    # os.getpid on every count, where ``process.pid`` has the same answer
                    values.ValueClass = values.MultiProcessValue(process.pid)
                _built = _Metrics()
    return _built


# -- the server launcher's two calls ----------------------------------------------
def prepare_for_server(instance_dir: Path, bind: str) -> Path:
    """Give this instance an empty metrics directory, before its workers start.

    ``<instance>/metrics/<bind>``: one per listening address, so two servers never share
    one, and emptied at each start (the port is free, so no live server still writes
    there). Workers find it through ``PROMETHEUS_MULTIPROC_DIR``, which they inherit.
    """
    if _built is not None:
        raise RuntimeError("metrics were counted in this process before the server set them up")
    safe = "".join(char if char.isalnum() or char in ".-" else "_" for char in bind)
    directory = (instance_dir / "metrics" / safe).absolute()
    shutil.rmtree(directory, ignore_errors=True)
    instance_dir.mkdir(mode=0o700, parents=True, exist_ok=True)  # it holds the session key
    directory.mkdir(parents=True)
    (directory / _STARTED_FILE).write_text(datetime.now(UTC).isoformat())
    os.environ[DIRECTORY_VARIABLE] = str(directory)
    return directory


def worker_exited(pid: int) -> None:
    """A worker ended: prometheus-client's bookkeeping for it (its counts stay counted)."""
    directory = shared_directory()
    if directory is not None:
        mark_process_dead(pid, str(directory))


def shared_directory() -> Path | None:
    """The instance's metrics directory when this process is one of a server's workers."""
    raw = os.environ.get(DIRECTORY_VARIABLE)
    return Path(raw) if raw else None


def instance() -> tuple[str, datetime] | None:
    """``(name, started_at)`` of the served instance this process belongs to, else None.

    The name is the host and the listening address; ``started_at`` changes at each start,
    when the counters begin again from zero.
    """
    directory = shared_directory()
    if directory is None:
        return None
    started = datetime.fromisoformat((directory / _STARTED_FILE).read_text().strip())
    return f"{socket.gethostname()}/{directory.name}", started.replace(tzinfo=None)


# -- counting (the hot paths tally; ``_hand_over`` adds the batches) -------------------
def _hand_over(counts: Counts, latencies: Observations) -> None:
    """Add a batch of tallied counts to prometheus-client's (this process's files)."""
    for child, amount in counts.items():
        child.inc(amount)
    built = _metrics()
    for (route, status), tally in latencies.items():
        histogram = built.latency_child(route, status)
        # prometheus-client adds one observation at a time; its own fields hold the sums
        histogram._sum.inc(tally[-1])
        for bucket, amount in enumerate(tally[:-1]):
            if amount:
                histogram._buckets[bucket].inc(amount)


_tally = Tally(BUCKETS, _hand_over)


def flush() -> None:
    """Hand this process's tallied counts over now (a served worker that stops calls this)."""
    _tally.flush()


def token_issued(grant: str, alg: str) -> None:
    child = _metrics().tokens.get((grant, alg))
    if child is not None:
        _tally.count(child)


def client_auth_failed(reason: str) -> None:
    failures = _metrics().failures
    (failures.get(reason) or failures["malformed"]).inc()


def introspected(active: bool) -> None:
    _tally.count(_metrics().introspections["active" if active else "inactive"])


def revoked(kind: str) -> None:
    _metrics().revocations[kind].inc()


def leak_report() -> None:
    _metrics().leak_reports.inc()


def observe_request(route: str | None, status: int, seconds: float) -> None:
    """One answered request; ``route`` is the matched rule (``/tokens/<client_id>``), never a
    path: an unmatched request is counted as ``unmatched``."""
    _tally.observe((route or UNMATCHED, status), seconds)


# -- reading ----------------------------------------------------------------------
def _families(registry: CollectorRegistry) -> CollectorRegistry:
    """``registry`` with the instance's counters, this process's tally handed over first."""
    flush()
    directory = shared_directory()
    if directory is not None:
        MultiProcessCollector(registry, str(directory))
    else:
        registry.register(_Local(_metrics()))
    return registry


class _Local:
    """The collector of this process's metrics (when there is no shared directory)."""

    def __init__(self, built: _Metrics) -> None:
        self.built = built

    def collect(self) -> Iterable:
        for metric in self.built.all:
            yield from metric.collect()


class _Gauges:
    def __init__(self, gauges: Mapping[str, tuple[str, float]]) -> None:
        self.gauges = gauges

    def collect(self) -> Iterable[GaugeMetricFamily]:
        for name, (documentation, value) in self.gauges.items():
            yield GaugeMetricFamily(name, documentation, value=value)


def render(gauges: Mapping[str, tuple[str, float]]) -> bytes:
    """The Prometheus text exposition: the instance's counters and ``gauges`` computed now
    (``{name: (help, value)}``)."""
    _metrics()  # this worker's zero series exist before the first scrape
    registry = _families(CollectorRegistry(auto_describe=False))
    registry.register(_Gauges(gauges))
    return generate_latest(registry)


def totals() -> dict[str, float]:
    """The instance's counters as a flat record: ``tokens`` (every grant and algorithm) and
    ``failures.<reason>``. What the dashboard's history is made of."""
    _metrics()
    found: dict[str, float] = {"tokens": 0.0}
    found.update({f"failures.{reason}": 0.0 for reason in FAILURE_REASONS})
    for family in _families(CollectorRegistry(auto_describe=False)).collect():
        for sample in family.samples:
            if sample.name == "gatehouse_tokens_issued_total":
                found["tokens"] += sample.value
            elif sample.name == "gatehouse_client_auth_failures_total":
                key = f"failures.{sample.labels['reason']}"
                found[key] = found.get(key, 0.0) + sample.value
    return found

"""Reading ``/metrics`` in tests: the Prometheus text, or an instance's metric files as a
scrape would sum them, parsed into ``{(name, labels): value}``."""

from __future__ import annotations

from pathlib import Path

from prometheus_client import CollectorRegistry
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def in_files(directory: Path) -> Samples:
    """What an instance's workers wrote to their metric files (``directory``), summed."""
    registry = CollectorRegistry()
    MultiProcessCollector(registry, str(directory))
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in registry.collect()
        for sample in family.samples
    }


def answered(samples: Samples, route: str) -> float:
    """How many requests to ``route`` the latency histogram counted."""
    return sum(
        count
        for (name, labels), count in samples.items()
        if name == "gatehouse_http_request_duration_seconds_count" and ("route", route) in labels
    )


def value(samples: Samples, name: str, **labels: str) -> float:
    """One sample's value (0 when the series is absent)."""
    return samples.get((name, frozenset(labels.items())), 0.0)


def failures(samples: Samples) -> dict[str, float]:
    """``gatehouse_client_auth_failures_total`` by reason."""
    return {
        dict(labels)["reason"]: count
        for (name, labels), count in samples.items()
        if name == "gatehouse_client_auth_failures_total"
    }


def tokens(samples: Samples) -> float:
    return sum(
        count for (name, _), count in samples.items() if name == "gatehouse_tokens_issued_total"
    )


def introspections(samples: Samples) -> dict[str, float]:
    return {
        dict(labels)["result"]: count
        for (name, labels), count in samples.items()
        if name == "gatehouse_introspections_total"
    }

"""Reading ``/metrics`` in tests: the Prometheus text parsed into ``{(name, labels): value}``."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


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

"""Prometheus metrics of the guard, with bounded labels: known paths (others are ``other``), tenants (principals
the vault knows), entity names (the recognizers'), results (a fixed set and HTTP status codes)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

from veil.guard.core import Call

PROTECTED = ("/v1/chat/completions", "/v1/completions", "/v1/embeddings", "/v1/responses")
KNOWN_PATHS = frozenset((*PROTECTED, "/v1/models"))


def path_label(path: str) -> str:
    return path if path in KNOWN_PATHS else "other"


def result_label(result: str | int) -> str:
    text = str(result)
    if text.isdigit() and 100 <= int(text) <= 599:
        return text
    return text if text in ("blocked", "refused", "denied", "invalid") else "other"


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "veil_guard_requests", "Requests by path, tenant and result", ["path", "tenant", "result"],
            registry=self.registry,
        )  # fmt: skip
        self.entities = Counter(
            "veil_guard_entities", "Personal data found", ["entity", "direction", "tenant"], registry=self.registry
        )
        self.foreign = Counter(
            "veil_guard_foreign_tokens",
            "Tokens in answers that the call's own request did not produce (left as they are)",
            ["tenant"],
            registry=self.registry,
        )
        self.overhead = Histogram(
            "veil_guard_overhead_seconds",
            "Time the guard adds (excluding the upstream)",
            ["path"],
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0),
        )

    def record(self, path: str, result: str | int, call: Call | None, tenant: str = "open") -> None:
        self.requests.labels(path_label(path), tenant, result_label(result)).inc()
        if call is None:
            return
        for entity, n in call.found.items():
            self.entities.labels(entity, "request", tenant).inc(n)
        for entity, n in call.leaks.items():
            self.entities.labels(entity, "answer", tenant).inc(n)
        if call.foreign:
            self.foreign.labels(tenant).inc(call.foreign)

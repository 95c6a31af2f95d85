"""Prometheus gauges: each detector's latest anomaly score, open alerts per kind, how far the monitor has read."""

from __future__ import annotations

from typing import Any

from veil.errors import MissingExtraError
from veil.monitor.engine import Monitor


class Gauges:
    def __init__(self, registry: Any = None) -> None:
        try:
            from prometheus_client import CollectorRegistry, Gauge
        except ImportError:
            raise MissingExtraError("monitor", "prometheus_client") from None
        self.registry = registry or CollectorRegistry()
        self.score = Gauge("veil_monitor_score", "Latest anomaly score per detector (-log10 tail probability)",
                           ["detector"], registry=self.registry)  # fmt: skip
        self.open = Gauge("veil_monitor_open_alerts", "Open alerts per kind", ["kind"], registry=self.registry)
        self.last = Gauge("veil_monitor_last_record", "Last audit record read", registry=self.registry)
        self.events = Gauge("veil_monitor_events", "Audit records read since start", registry=self.registry)

    def update(self, monitor: Monitor) -> None:
        for d in monitor.detectors:
            self.score.labels(d.kind).set(d.score)
        if monitor.store:
            counts = monitor.store.counts()
            for kind in {*counts, "audit-chain", *(d.kind for d in monitor.detectors)}:
                self.open.labels(kind).set(counts.get(kind, 0))
        self.last.set(monitor.last_id)
        self.events.set(monitor.events)

    def serve(self, port: int, host: str = "127.0.0.1") -> None:
        from prometheus_client import start_http_server

        start_http_server(port, addr=host, registry=self.registry)

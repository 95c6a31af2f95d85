"""The monitor: replays the audit log through every detector, stores and sends the alerts, checks the chain.

Baselines are rebuilt from the whole log at start (streaming statistics, no saved model that could be tampered
with); alerts are raised only for records past the stored cursor, and the store keeps one per kind, key and
window, so a restarted or concurrent monitor never repeats one.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from veil.monitor.baseline import Settings
from veil.monitor.detectors import BulkDetokenize, Detector, NewUse, PrivilegedUse, RefusalBurst, UnusualHour
from veil.monitor.events import Alert, Event
from veil.monitor.sinks import Sink
from veil.monitor.spending import DpBurn, LeakRate
from veil.monitor.store import AlertStore

DETECTORS: dict[str, type[Detector]] = {d.kind: d for d in (BulkDetokenize, NewUse, UnusualHour, RefusalBurst,
                                                             PrivilegedUse, DpBurn, LeakRate)}  # fmt: skip
OWN = frozenset({"monitor.alert", "monitor.ack"})
OnAlert = Callable[[Alert, int | None], None]


def settings_of(policy: Any) -> Settings:
    from datetime import timedelta

    m = policy.monitor
    return Settings(timedelta(days=m.warmup_days), m.sensitivity, m.refusal_burst, m.dp_plan_days)


class Monitor:
    def __init__(self, audit: Any, settings: Settings, *, store: AlertStore | None = None,
                 sinks: Sequence[Sink] = (), name: str = "default") -> None:  # fmt: skip
        self.audit, self.settings, self.store, self.sinks, self.name = audit, settings, store, list(sinks), name
        self.detectors = [cls(settings) for cls in DETECTORS.values()]
        self.first_at: datetime | None = None
        self.last_id = 0
        self.events = 0
        self.cursor = store.cursor(name) if store else 0
        self.tamper_reported = False

    def feed(self, e: Event) -> list[Alert]:
        """Every detector's alerts about one event (the baselines learn from it)."""
        self.first_at = self.first_at or e.at
        warm = e.at - self.first_at >= self.settings.warmup
        self.events += 1
        return [a for d in self.detectors for a in d.observe(e, warm)]

    def run_once(self, on_alert: OnAlert | None = None) -> list[Alert]:
        """Read the records added since the last call; the new alerts (stored, sent, returned)."""
        raised: list[Alert] = []
        for rec in self.audit.records(after=self.last_id):
            event = Event.from_record(rec)
            self.last_id = event.id
            if event.action in OWN:
                continue
            for alert in self.feed(event):
                if event.id > self.cursor and self._emit(alert, on_alert):
                    raised.append(alert)
        raised += self._check_chain(on_alert)
        if self.store and self.last_id > self.cursor:
            self.store.advance(self.name, self.last_id)
            self.cursor = self.last_id
        return raised

    def _emit(self, alert: Alert, on_alert: OnAlert | None) -> bool:
        """Store and send a new alert; False when another monitor (or an earlier run) raised it already."""
        alert_id = self.store.add(alert) if self.store else None
        if self.store and alert_id is None:
            return False
        for sink in self.sinks:
            sink.emit(alert, alert_id)
        if on_alert:
            on_alert(alert, alert_id)
        return True

    def _check_chain(self, on_alert: OnAlert | None) -> list[Alert]:
        found = self.audit.verify()
        if found.ok or self.tamper_reported:
            return []
        self.tamper_reported = True
        from datetime import UTC

        bad = found.first_bad or 0
        alert = Alert("audit-chain", "audit", f"record {bad}", datetime.now(UTC), bad, "hash chain",
                      "every record chained to the previous", found.problem,
                      f"the audit log was tampered with: record {bad} {found.problem}", "critical")  # fmt: skip
        return [alert] if self._emit(alert, on_alert) else []

    def follow(self, interval: float, on_alert: OnAlert | None = None, stop: Callable[[], bool] = lambda: False,
               tick: Callable[[Monitor], None] | None = None) -> None:  # fmt: skip
        """Run until ``stop()``: read new records every ``interval`` seconds."""
        while not stop():
            self.run_once(on_alert)
            if tick:
                tick(self)
            time.sleep(interval)

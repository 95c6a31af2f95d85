"""The monitor: replays the audit log through every detector, stores and sends the alerts, checks the chain.

Baselines are rebuilt from the whole log at start (streaming statistics, no saved model that could be tampered
with); alerts are raised only for records past the stored cursor, and the store keeps one per kind, key and
window, so a restarted or concurrent monitor never repeats one.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from veil.monitor.baseline import Settings
from veil.monitor.detectors import BulkDetokenize, Detector, NewUse, PrivilegedUse, RefusalBurst, UnusualHour
from veil.monitor.events import Alert, Event
from veil.monitor.sinks import Sink
from veil.monitor.spending import DpBurn, LeakRate
from veil.monitor.store import AlertStore
from veil.vault.audit import GENESIS

DETECTORS: dict[str, type[Detector]] = {d.kind: d for d in (BulkDetokenize, NewUse, UnusualHour, RefusalBurst,
                                                             PrivilegedUse, DpBurn, LeakRate)}  # fmt: skip
OWN = frozenset({"monitor.alert", "monitor.ack"})
OnAlert = Callable[[Alert, int | None], None]


def settings_of(policy: Any) -> Settings:
    from datetime import timedelta

    m = policy.monitor
    return Settings(timedelta(days=m.warmup_days), m.sensitivity, m.refusal_burst, m.dp_plan_days)


class Monitor:
    """``verify_every``: seconds between full verifications of the chain (its checkpoint included); in between,
    each record read is checked against the one before it as it arrives, so following a large log stays cheap."""

    def __init__(self, audit: Any, settings: Settings, *, store: AlertStore | None = None,
                 sinks: Sequence[Sink] = (), name: str = "default", verify_every: float = 300.0) -> None:  # fmt: skip
        self.audit, self.settings, self.store, self.sinks, self.name = audit, settings, store, list(sinks), name
        self.detectors = [cls(settings) for cls in DETECTORS.values()]
        self.first_at: datetime | None = None
        self.last_id = 0
        self.events = 0
        self.cursor = store.cursor(name) if store else 0
        self.tamper_reported = False
        self.verify_every = verify_every
        self._verified: float | None = None  # monotonic time of the last full verification
        self._prev = GENESIS  # the digest of the last record read
        self._trusted = 0  # records up to this id passed the last full verification: not hashed again when read

    def feed(self, e: Event) -> list[Alert]:
        """Every detector's alerts about one event (the baselines learn from it)."""
        self.first_at = self.first_at or e.at
        warm = e.at - self.first_at >= self.settings.warmup
        self.events += 1
        return [a for d in self.detectors for a in d.observe(e, warm)]

    def learn(self, ack: Event) -> None:
        """An acknowledged alert (its audit record names kind, key and window) teaches the detector it came from."""
        kind, key, window = (str(ack.details.get(k, "")) for k in ("kind", "key", "window"))
        if ack.result == "ok" and kind and key:
            for d in self.detectors:
                d.accept(kind, key, window)

    def run_once(self, on_alert: OnAlert | None = None) -> list[Alert]:
        """Read the records added since the last call; the new alerts (stored, sent, returned)."""
        raised = self._check_chain(on_alert)
        for rec in self.audit.records(after=self.last_id):
            raised += self._link(rec, on_alert)
            event = Event.from_record(rec)
            self.last_id = event.id
            if event.action == "monitor.ack":
                self.learn(event)
            if event.action in OWN:
                continue
            for alert in self.feed(event):
                if event.id > self.cursor and self._emit(alert, on_alert):
                    raised.append(alert)
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

    def _link(self, rec: dict[str, Any], on_alert: OnAlert | None) -> list[Alert]:
        """The record checked against the one read before it."""
        problem = None if rec["id"] == self.last_id + 1 else f"record {self.last_id + 1} is missing (deleted)"
        if problem is None and rec["id"] > self._trusted:
            problem = self.audit.breaks(self._prev, rec)
        self._prev = bytes(rec["digest"])
        return self._tampered(int(rec["id"]), problem, on_alert) if problem else []

    def _check_chain(self, on_alert: OnAlert | None) -> list[Alert]:
        """The whole chain and its checkpoint, at the first run and every ``verify_every`` seconds."""
        now = time.monotonic()
        if self._verified is not None and now - self._verified < self.verify_every:
            return []
        self._verified = now
        found = self.audit.verify()
        self._trusted = found.records if found.ok else 0
        return [] if found.ok else self._tampered(found.first_bad or 0, found.problem, on_alert)

    def _tampered(self, bad: int, problem: str, on_alert: OnAlert | None) -> list[Alert]:
        if self.tamper_reported:
            return []
        self.tamper_reported = True
        alert = Alert("audit-chain", "audit", f"record {bad}", datetime.now(UTC), bad, "hash chain",
                      "every record chained to the previous", problem,
                      f"the audit log was tampered with: record {bad} {problem}", "critical")  # fmt: skip
        return [alert] if self._emit(alert, on_alert) else []

    def follow(self, interval: float, on_alert: OnAlert | None = None, stop: Callable[[], bool] = lambda: False,
               tick: Callable[[Monitor], None] | None = None) -> None:  # fmt: skip
        """Run until ``stop()``: read new records every ``interval`` seconds."""
        while not stop():
            self.run_once(on_alert)
            if tick:
                tick(self)
            time.sleep(interval)

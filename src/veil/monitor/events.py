"""Audit records as the monitor reads them, and the alerts it raises about them."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

EXPORTS = frozenset({"audit.export", "dsar.bundle.download", "export"})
KEY_OPS = frozenset({"keys.rotate", "shred", "vault.erase_subject", "role.create", "principal.create",
                     "principal.disable"})  # fmt: skip


@dataclass(frozen=True)
class Event:
    id: int
    at: datetime
    actor: str
    action: str
    result: str
    scope: str
    purpose: str
    details: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_record(cls, rec: dict[str, Any]) -> Event:
        try:
            details = json.loads(rec["details"]) if isinstance(rec["details"], str) else dict(rec["details"] or {})
        except ValueError:
            details = {}
        return cls(int(rec["id"]), datetime.fromisoformat(rec["at"]), rec["actor"], rec["action"], rec["result"],
                   rec["scope"], rec["purpose"], details if isinstance(details, dict) else {})  # fmt: skip

    @property
    def hour(self) -> str:
        return self.at.strftime("%Y-%m-%dT%H")

    @property
    def day(self) -> str:
        return self.at.strftime("%Y-%m-%d")

    def number(self, key: str) -> float:
        value = self.details.get(key, 0)
        return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


@dataclass(frozen=True)
class Alert:
    """Why, always: which feature, what the baseline expected, what was observed."""

    kind: str
    key: str  # the principal, dataset or scope it is about
    window: str  # the hour, day or name it covers: one alert per kind, key and window
    at: datetime
    record: int  # the audit record that tipped it
    feature: str
    baseline: str
    observed: str
    why: str
    severity: str = "warning"

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "key": self.key, "window": self.window, "at": self.at.isoformat(),
                "record": self.record, "severity": self.severity, "feature": self.feature,
                "baseline": self.baseline, "observed": self.observed, "why": self.why}  # fmt: skip

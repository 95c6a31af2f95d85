"""Alerts in the vault database: one row per (kind, key, window), acknowledged by a person, never deleted."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, func, select, update
from sqlalchemy.exc import IntegrityError

from veil.errors import InputError
from veil.monitor.events import Alert
from veil.storage.engine import write_tx
from veil.storage.schema import alerts, monitor_state

STATUSES = ("open", "acked")


class AlertStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add(self, alert: Alert) -> int | None:
        """The new alert's id, or None when this kind, key and window already has one (a replay)."""
        row = {**alert.to_dict(), "at": alert.at.isoformat()}
        try:
            with write_tx(self.engine) as conn:
                found = conn.execute(alerts.insert().values(**row))
        except IntegrityError:
            return None
        key = found.inserted_primary_key
        return int(key[0]) if key else None

    def list(self, status: str | None = "open", kind: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
        if status is not None and status not in STATUSES:
            raise InputError(f"status must be one of {', '.join(STATUSES)}")
        stmt = select(alerts).order_by(alerts.c.id.desc()).limit(limit)
        if status:
            stmt = stmt.where(alerts.c.status == status)
        if kind:
            stmt = stmt.where(alerts.c.kind == kind)
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(stmt)]

    def counts(self) -> dict[str, int]:
        """Open alerts per kind."""
        stmt = select(alerts.c.kind, func.count()).where(alerts.c.status == "open").group_by(alerts.c.kind)
        with self.engine.connect() as conn:
            return {str(k): int(n) for k, n in conn.execute(stmt)}

    def ack(self, alert_id: int, actor: str, note: str = "") -> None:
        now = datetime.now(UTC).isoformat(timespec="seconds")
        with write_tx(self.engine) as conn:
            done = conn.execute(update(alerts).where(alerts.c.id == alert_id, alerts.c.status == "open")
                                .values(status="acked", acked_by=actor, acked_at=now, note=note[:1000]))  # fmt: skip
            if done.rowcount == 0:
                exists = conn.execute(select(alerts.c.id).where(alerts.c.id == alert_id)).first()
                raise InputError(f"alert {alert_id} is already acknowledged" if exists else f"no alert {alert_id}")

    def cursor(self, name: str) -> int:
        with self.engine.connect() as conn:
            row = conn.execute(select(monitor_state.c.last_record).where(monitor_state.c.name == name)).first()
        return int(row[0]) if row else 0

    def advance(self, name: str, last: int) -> None:
        now = datetime.now(UTC).isoformat(timespec="seconds")
        with write_tx(self.engine) as conn:
            moved = conn.execute(update(monitor_state).where(monitor_state.c.name == name)
                                 .values(last_record=last, updated=now))  # fmt: skip
            if moved.rowcount == 0:
                conn.execute(monitor_state.insert().values(name=name, last_record=last, updated=now))

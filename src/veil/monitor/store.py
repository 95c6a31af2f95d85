"""Alerts in the vault database: one row per (kind, key, window), acknowledged by a person, never deleted."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, func, select, update
from sqlalchemy.exc import IntegrityError

from veil.errors import AccessDenied, InputError
from veil.monitor.events import Alert
from veil.storage.engine import write_tx
from veil.storage.schema import alerts, monitor_state

STATUSES = ("open", "acked")
LOCAL_ACTORS = frozenset({"local"})  # access.enforce off: one operator, no principals


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

    def ack(self, alert_id: int, actor: str, note: str = "") -> dict[str, Any]:
        """Mark an open alert acknowledged; the alert as it was. An alert about a principal is acknowledged by
        someone else: acknowledging teaches the monitor that what it flagged is normal for that principal."""
        now = datetime.now(UTC).isoformat(timespec="seconds")
        with write_tx(self.engine) as conn:
            row = conn.execute(select(alerts).where(alerts.c.id == alert_id)).first()
            if row is None:
                raise InputError(f"no alert {alert_id}")
            if row.status != "open":
                raise InputError(f"alert {alert_id} is already acknowledged")
            if actor == row.key and actor not in LOCAL_ACTORS:
                raise AccessDenied(f"alert {alert_id} is about {actor}: another principal acknowledges it")
            conn.execute(update(alerts).where(alerts.c.id == alert_id, alerts.c.status == "open")
                         .values(status="acked", acked_by=actor, acked_at=now, note=note[:1000]))  # fmt: skip
        return dict(row._mapping)

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


def acknowledge(vault: Any, alert_id: int, actor: str, note: str = "") -> dict[str, Any]:
    """Acknowledge an alert and put it on the record: the ``monitor.ack`` audit record names the alert's kind, key
    and window, which is how every monitor (now or replaying the log later) learns it. The alert as it was."""
    row = AlertStore(vault.engine).ack(alert_id, actor, note)
    vault.audit.append(actor, "monitor.ack", **ack_details(row))
    return row


def ack_details(row: dict[str, Any]) -> dict[str, Any]:
    """What a ``monitor.ack`` audit record says of the alert: enough for a monitor to learn it."""
    return {"alert": row["id"], "kind": row["kind"], "key": row["key"], "window": row["window"]}

"""Data-subject requests: received -> verified -> running -> done, or refused; ``failed`` is resumable.

Each request has its legal deadline (GDPR Art. 12(3): one month from receipt; CCPA: 45 days), a timeline of
every step, per-source progress (so a run that stopped halfway resumes where it stopped and never charges a
source twice) and its evidence. Ids are random (``dsr_`` + 16 hex digits): knowing one request's id says
nothing about another's. Parameters holding personal values (a rectification's new value) are sealed.
"""

from __future__ import annotations

import calendar
import json
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import insert, select, update

from veil.errors import ConfigError, InputError
from veil.governance.subjects import event, now
from veil.storage.engine import write_tx
from veil.storage.schema import requests
from veil.vault import Vault

RequestType = Literal["access", "portability", "erase", "rectify", "restrict"]
TYPES: tuple[RequestType, ...] = ("access", "portability", "erase", "rectify", "restrict")
OPEN = ("received", "verified", "running", "failed")
REQUEST_SCOPE = "__veil_requests__"


def add_month(day: datetime) -> datetime:
    """The same day next month (the last day when next month is shorter): GDPR's "one month"."""
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    return day.replace(year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1]))


def deadline(received: datetime, jurisdiction: str) -> datetime:
    if jurisdiction == "ccpa":
        return received + timedelta(days=45)
    return add_month(received)


@dataclass
class Request:
    id: str
    subject: str
    type: str
    status: str
    jurisdiction: str
    received: str
    due: str
    updated: str
    progress: dict[str, Any] = field(default_factory=dict)
    timeline: list[dict[str, Any]] = field(default_factory=list)
    result: dict[str, Any] = field(default_factory=dict)

    @property
    def overdue(self) -> bool:
        return self.status in OPEN and datetime.fromisoformat(self.due) < datetime.now(UTC)

    def to_dict(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        out["overdue"] = self.overdue
        return out


class Requests:
    def __init__(self, vault: Vault) -> None:
        self.vault = vault

    def _seal(self, rid: str, params: dict[str, Any]) -> bytes:
        return self.vault.scope_keys(REQUEST_SCOPE).encrypt(json.dumps(params).encode(), rid.encode())

    def params(self, rid: str) -> dict[str, Any]:
        with self.vault.engine.connect() as conn:
            blob = conn.execute(select(requests.c.params).where(requests.c.id == rid)).scalar()
        if not blob:
            return {}
        raw = self.vault.scope_keys(REQUEST_SCOPE).decrypt(bytes(blob), rid.encode())
        return dict(json.loads(raw))

    def open(
        self,
        subject: str,
        kind: RequestType,
        *,
        jurisdiction: str,
        actor: str = "local",
        params: dict[str, Any] | None = None,
        received: datetime | None = None,
        channel: str = "",
    ) -> Request:
        if kind not in TYPES:
            raise ConfigError(f"unknown request type '{kind}' (known: {', '.join(TYPES)})")
        if kind == "rectify" and not (params and params.get("target") and "value" in params):
            raise ConfigError("a rectification names the field and its new value (--field NAME --value NEW)")
        start = received or datetime.now(UTC)
        rid = "dsr_" + secrets.token_hex(8)
        stamp = start.isoformat(timespec="seconds")
        first = event("received", actor, channel)
        row = {
            "id": rid,
            "subject": subject,
            "type": kind,
            "status": "received",
            "jurisdiction": jurisdiction,
            "received": stamp,
            "due": deadline(start, jurisdiction).isoformat(timespec="seconds"),
            "updated": now(),
            "params": self._seal(rid, params) if params else None,
            "progress": "{}",
            "timeline": json.dumps([first]),
            "result": "{}",
        }
        with write_tx(self.vault.engine) as conn:
            conn.execute(insert(requests).values(**row))
        self.vault.audit.append(actor, "dsar.open", subject=subject, request=rid, type=kind, due=row["due"])
        return self.get(rid)

    def get(self, rid: str) -> Request:
        with self.vault.engine.connect() as conn:
            row = conn.execute(select(requests).where(requests.c.id == rid)).first()
        if row is None:
            raise InputError(f"no data-subject request {rid!r}" if len(rid) <= 40 else "no such data-subject request")
        return self._request(row._mapping)

    @staticmethod
    def _request(m: Any) -> Request:
        return Request(
            m["id"],
            m["subject"],
            m["type"],
            m["status"],
            m["jurisdiction"],
            m["received"],
            m["due"],
            m["updated"],
            json.loads(m["progress"]),
            json.loads(m["timeline"]),
            json.loads(m["result"]),
        )

    def find(self, *, status: str | None = None, overdue: bool = False, subject: str | None = None) -> list[Request]:
        stmt = select(requests).order_by(requests.c.received, requests.c.id)
        if status:
            stmt = stmt.where(requests.c.status == status)
        if subject:
            stmt = stmt.where(requests.c.subject == subject)
        with self.vault.engine.connect() as conn:
            found = [self._request(r._mapping) for r in conn.execute(stmt)]
        return [r for r in found if r.overdue] if overdue else found

    def move(
        self,
        rid: str,
        status: str,
        *,
        actor: str = "local",
        note: str = "",
        allowed: tuple[str, ...] | None = None,
        progress: dict[str, Any] | None = None,
        result: dict[str, Any] | None = None,
    ) -> Request:
        """Move a request to ``status`` (only from ``allowed``), adding a timeline event; one transaction."""
        with write_tx(self.vault.engine) as conn:
            row = conn.execute(select(requests).where(requests.c.id == rid)).first()
            if row is None:
                raise InputError(f"no data-subject request {rid!r}")
            if allowed is not None and row.status not in allowed:
                raise ConfigError(f"request {rid} is {row.status}: it cannot become {status}")
            timeline = json.loads(row.timeline)
            timeline.append(event(status, actor, note))
            values: dict[str, Any] = {"status": status, "updated": now(), "timeline": json.dumps(timeline)}
            if progress is not None:
                values["progress"] = json.dumps(progress, sort_keys=True)
            if result is not None:
                values["result"] = json.dumps(result, sort_keys=True, default=str)
            conn.execute(update(requests).where(requests.c.id == rid).values(**values))
        self.vault.audit.append(actor, f"dsar.{status}", subject=row.subject, request=rid, note=note[:200])
        return self.get(rid)

    def save_progress(self, rid: str, progress: dict[str, Any]) -> None:
        with write_tx(self.vault.engine) as conn:
            conn.execute(
                update(requests)
                .where(requests.c.id == rid)
                .values(progress=json.dumps(progress, sort_keys=True), updated=now())
            )

    def seal(self, rid: str, label: str, values: list[Any]) -> str:
        """Personal values a resumed run still needs (identifiers, tokens to wipe), sealed for the progress record."""
        return self._seal(f"{rid}/{label}", {"values": values}).hex()

    def unseal(self, rid: str, label: str, sealed: str) -> list[Any]:
        raw = self.vault.scope_keys(REQUEST_SCOPE).decrypt(bytes.fromhex(sealed), f"{rid}/{label}".encode())
        return list(json.loads(raw)["values"])

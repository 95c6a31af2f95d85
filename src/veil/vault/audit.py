"""The audit log: append-only records chained by HMAC-SHA256, verifiable end to end.

``digest_n = HMAC(audit_key, digest_{n-1} || canonical_json(record_n))`` with the audit key derived from the
master key, so a record cannot be edited, removed, inserted or reordered without the chain breaking, and the
chain cannot be recomputed without the master key. ``verify`` names the first bad record and what is wrong.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, select, text

from veil.storage.engine import write_tx
from veil.storage.schema import audit

GENESIS = b"\x00" * 32
FIELDS = ("id", "at", "actor", "action", "scope", "subject", "purpose", "result", "details")


def canonical(record: dict[str, Any]) -> bytes:
    return json.dumps(
        {k: record[k] for k in FIELDS}, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode()


@dataclass(frozen=True)
class Verification:
    ok: bool
    records: int
    first_bad: int | None = None
    problem: str = ""


class AuditLog:
    def __init__(self, engine: Engine, key: bytes) -> None:
        self.engine = engine
        self._key = key

    def _digest(self, prev: bytes, record: dict[str, Any]) -> bytes:
        return hmac.new(self._key, prev + canonical(record), hashlib.sha256).digest()

    def append(
        self,
        actor: str,
        action: str,
        *,
        result: str = "ok",
        scope: str = "",
        subject: str = "",
        purpose: str = "",
        **details: Any,
    ) -> int:
        """Add a record; returns its id. ``details`` must not hold raw personal data (counts, ids, names of keys)."""
        with write_tx(self.engine) as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("LOCK TABLE veil_audit IN SHARE ROW EXCLUSIVE MODE"))
            last = conn.execute(select(audit.c.id, audit.c.digest).order_by(audit.c.id.desc()).limit(1)).first()
            prev = bytes(last.digest) if last else GENESIS
            record = {
                "id": (last.id + 1) if last else 1,
                "at": datetime.now(UTC).isoformat(timespec="microseconds"),
                "actor": actor,
                "action": action,
                "scope": scope,
                "subject": subject,
                "purpose": purpose,
                "result": result,
                "details": json.dumps(details, sort_keys=True, default=str),
            }
            conn.execute(audit.insert().values(**record, prev=prev, digest=self._digest(prev, record)))
        return int(record["id"])

    def records(self) -> Iterator[dict[str, Any]]:
        with self.engine.connect() as conn:
            for row in conn.execute(select(audit).order_by(audit.c.id)):
                yield dict(row._mapping)

    def verify(self) -> Verification:
        prev = GENESIS
        expected_id = 1
        count = 0
        for rec in self.records():
            count += 1
            if rec["id"] != expected_id:
                return Verification(False, count, rec["id"], f"record {expected_id} is missing (deleted)")
            if bytes(rec["prev"]) != prev:
                return Verification(
                    False, count, rec["id"], "does not follow the previous record (deleted or reordered)"
                )
            if not hmac.compare_digest(bytes(rec["digest"]), self._digest(prev, rec)):
                return Verification(False, count, rec["id"], "its content was changed after it was written")
            prev = bytes(rec["digest"])
            expected_id += 1
        return Verification(True, count)

    def export(self) -> Iterator[str]:
        """JSON Lines, one record each, with its chain digests in hex."""
        for rec in self.records():
            out = {k: rec[k] for k in FIELDS}
            out["details"] = json.loads(rec["details"])
            out["prev"] = bytes(rec["prev"]).hex()
            out["digest"] = bytes(rec["digest"]).hex()
            yield json.dumps(out, ensure_ascii=False)

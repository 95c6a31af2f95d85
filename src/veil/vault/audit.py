"""The audit log: append-only records chained by HMAC-SHA256, verifiable end to end.

``digest_n = HMAC(audit_key, digest_{n-1} || canonical_json(record_n))`` with the audit key derived from the
master key, so a record cannot be edited, removed, inserted or reordered without the chain breaking, and the
chain cannot be recomputed without the master key. ``verify`` names the first bad record and what is wrong.
"""

from __future__ import annotations

import atexit
import hashlib
import hmac
import json
import logging
import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, select, text
from sqlalchemy.exc import OperationalError, ProgrammingError

from veil.storage.engine import write_tx
from veil.storage.schema import audit
from veil.vault.anchor import Anchor, Checkpoint

GENESIS = b"\x00" * 32
FIELDS = ("id", "at", "actor", "action", "scope", "subject", "purpose", "result", "details")


def canonical(record: dict[str, Any]) -> bytes:
    return json.dumps(
        {k: record[k] for k in FIELDS}, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode()


def entry(
    actor: str, action: str, result: str, scope: str, subject: str, purpose: str, details: dict[str, Any]
) -> dict[str, str]:
    return {
        "at": datetime.now(UTC).isoformat(timespec="microseconds"),
        "actor": actor,
        "action": action,
        "scope": scope,
        "subject": subject,
        "purpose": purpose,
        "result": result,
        "details": json.dumps(details, sort_keys=True, default=str),
    }


@dataclass(frozen=True)
class Verification:
    ok: bool
    records: int
    first_bad: int | None = None
    problem: str = ""
    anchored: Checkpoint | None = None  # the newest checkpoint the head was checked against


class AuditLog:
    """``anchor``: where the chain's head is checkpointed outside the database (:mod:`veil.vault.anchor`)."""

    def __init__(self, engine: Engine, key: bytes, anchor: Anchor | None = None) -> None:
        self.engine = engine
        self._key = key
        self.anchor = anchor

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
        return self.append_many([entry(actor, action, result, scope, subject, purpose, details)])

    def append_many(self, entries: list[dict[str, str]]) -> int:
        """Add records (made by :func:`entry`) in one transaction, chained in order; returns the last id."""
        with write_tx(self.engine) as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("LOCK TABLE veil_audit IN SHARE ROW EXCLUSIVE MODE"))
            last = conn.execute(select(audit.c.id, audit.c.digest).order_by(audit.c.id.desc()).limit(1)).first()
            prev = bytes(last.digest) if last else GENESIS
            next_id = (last.id + 1) if last else 1
            rows = []
            for item in entries:
                record: dict[str, Any] = {**item, "id": next_id}
                digest = self._digest(prev, record)
                rows.append({**record, "prev": prev, "digest": digest})
                prev, next_id = digest, next_id + 1
            if rows:
                conn.execute(audit.insert(), rows)
        if rows and self.anchor is not None:
            self.anchor.write(next_id - 1, prev)  # after the commit: a checkpoint never names an unwritten record
        return next_id - 1

    def records(self, after: int = 0) -> Iterator[dict[str, Any]]:
        """Every record in order (those with an id above ``after``)."""
        with self.engine.connect() as conn:
            for row in conn.execute(select(audit).where(audit.c.id > after).order_by(audit.c.id)):
                yield dict(row._mapping)

    def about(self, subject: str) -> list[dict[str, Any]]:
        """The records naming a data subject (their access bundle), details parsed, without chain digests."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(audit).where(audit.c.subject == subject).order_by(audit.c.id)).all()
        return [{k: (json.loads(r.details) if k == "details" else r._mapping[k]) for k in FIELDS} for r in rows]

    def breaks(self, prev: bytes, rec: dict[str, Any]) -> str | None:
        """Why ``rec`` (as :meth:`records` yields it) does not continue a chain whose last digest is ``prev``; None
        when it does. A reader that follows the log checks each new record with this as it arrives."""
        if bytes(rec["prev"]) != prev:
            return "does not follow the previous record (deleted or reordered)"
        if not hmac.compare_digest(bytes(rec["digest"]), self._digest(prev, rec)):
            return "its content was changed after it was written"
        return None

    def verify(self) -> Verification:
        """The chain checked record by record, then its head against the newest anchored checkpoint."""
        point = self.anchor.newest() if self.anchor is not None else None
        try:
            found = self._verify_chain(point)
        except (OperationalError, ProgrammingError):
            return Verification(False, 0, None, "the audit table is missing or unreadable")
        return replace(found, anchored=point) if found.ok else found

    def _verify_chain(self, point: Checkpoint | None) -> Verification:
        prev = GENESIS
        count = 0
        at_point: bytes | None = None  # the chain's digest at the checkpoint's record
        for rec in self.records():
            count += 1
            if rec["id"] != count:
                return Verification(False, count, rec["id"], f"record {count} is missing (deleted)")
            problem = self.breaks(prev, rec)
            if problem:
                return Verification(False, count, rec["id"], problem)
            prev = bytes(rec["digest"])
            if point is not None and rec["id"] == point.last_id:
                at_point = prev
        if point is None:
            return Verification(True, count)
        if at_point is not None and at_point.hex() != point.digest:
            return Verification(False, count, point.last_id, "the chain was rewritten since its checkpoint")
        if count < point.last_id:
            return Verification(False, count, count + 1, f"records {count + 1}..{point.last_id} were deleted "
                                f"(the checkpoint of {point.at} saw record {point.last_id})")  # fmt: skip
        return Verification(True, count)

    def export(self) -> Iterator[str]:
        """JSON Lines, one record each, with its chain digests in hex."""
        for rec in self.records():
            out = {k: rec[k] for k in FIELDS}
            out["details"] = json.loads(rec["details"])
            out["prev"] = bytes(rec["prev"]).hex()
            out["digest"] = bytes(rec["digest"]).hex()
            yield json.dumps(out, ensure_ascii=False)


class BufferedAudit:
    """Appends records from a background thread in batches: the chain stays whole and callers never wait on a
    database write. At most ``interval`` seconds of records are pending; ``close`` (also at exit) writes the rest.
    """

    def __init__(self, log: AuditLog, interval: float = 0.02, max_batch: int = 500) -> None:
        self.log = log
        self.interval = interval
        self.max_batch = max_batch
        self._queue: queue.Queue[dict[str, str] | None] = queue.Queue()
        self._idle = threading.Event()
        self._idle.set()
        self._thread = threading.Thread(target=self._run, name="veil-audit", daemon=True)
        self._thread.start()
        atexit.register(self.close)

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
    ) -> None:
        self._idle.clear()
        self._queue.put(entry(actor, action, result, scope, subject, purpose, details))

    def _write(self, batch: list[dict[str, str]]) -> None:
        try:
            self.log.append_many(batch)
        except Exception:  # pragma: no cover - keep serving; the failure is logged
            logging.getLogger(__name__).exception("could not write %d audit record(s)", len(batch))

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            batch = [item]
            stop = False
            while len(batch) < self.max_batch:
                try:
                    nxt = self._queue.get(timeout=self.interval)
                except queue.Empty:
                    break
                if nxt is None:
                    stop = True
                    break
                batch.append(nxt)
            self._write(batch)
            if self._queue.empty():
                self._idle.set()
            if stop:
                return

    def flush(self, timeout: float = 30.0) -> None:
        """Wait until every record queued so far is written."""
        self._idle.wait(timeout)

    def close(self) -> None:
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join(timeout=30)

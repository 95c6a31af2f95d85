"""The facts each dashboard page shows, read with SQL aggregates (a page stays fast with 100,000 audit records)."""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from veil.service.state import State
from veil.storage.schema import audit, breaches
from veil.textio_out import atomic_output

_MAPS: dict[str, tuple[float, dict[str, Any]]] = {}


def data_maps(st: State) -> list[tuple[str, dict[str, Any]]]:
    """The saved data map of each governance source (``datamap:``), re-read when its file changes."""
    out = []
    for name, source in st.policy.governance.sources.items():
        path = source.datamap_path(st.base) or scanned_path(st, name)
        if not source.datamap and not path.exists():
            out.append((name, {"tables": {}, "note": "not scanned yet"}))
            continue
        try:
            mtime = path.stat().st_mtime
            cached = _MAPS.get(str(path))
            if cached is None or cached[0] != mtime:
                _MAPS[str(path)] = (mtime, json.loads(path.read_text(encoding="utf-8")))
            out.append((name, _MAPS[str(path)][1]))
        except (OSError, ValueError):
            out.append((name, {"tables": {}, "note": "the data map file cannot be read"}))
    return out


def scanned_path(st: State, source: str) -> Path:
    """Where the dashboard keeps the data map it scanned for a source without a saved one."""
    return st.work_dir / "datamaps" / f"{source}.json"


def scan_source(st: State, source: str) -> None:
    """Scan a governance source now (1,000-row samples per table) and keep its data map."""
    from veil.governance.sources import expand
    from veil.tabular.datamap import scan_database
    from veil.tabular.location import Location

    known = st.policy.governance.sources[source]
    data_map = scan_database(Location("sql", expand(known.url, source), None), st.anonymizer.detector,
                             sample_rows=st.policy.tables.sample_rows)  # fmt: skip
    path = scanned_path(st, source)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(str(path), overwrite=True) as fh:
        fh.write(json.dumps(data_map.to_dict()))


def map_summary(maps: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    tables = personal = 0
    entities: Counter[str] = Counter()
    for _name, m in maps:
        for t in m.get("tables", {}).values():
            tables += 1
            personal += len(t.get("personal_columns", []))
            for c in t.get("columns", {}).values():
                for e in c.get("entities", []):
                    entities[e["entity"]] += 1
    return {"sources": len(maps), "tables": tables, "personal_columns": personal, "entities": entities.most_common(12)}


def guard_stats(st: State, days: int = 30) -> dict[str, Any]:
    """Guard traffic per day and what it found and leaked (the last 5,000 calls' details)."""
    day = func.substr(audit.c.at, 1, 10)
    with st.vault.engine.connect() as conn:
        per_day = conn.execute(
            select(day.label("d"), func.count()).where(audit.c.action == "guard.request").group_by(day).order_by(day)
        ).all()[-days:]
        recent = conn.execute(
            select(audit.c.details).where(audit.c.action == "guard.request").order_by(audit.c.id.desc()).limit(5000)
        ).all()
    found: Counter[str] = Counter()
    leaks: Counter[str] = Counter()
    blocked = 0
    for (details,) in recent:
        d = json.loads(details)
        found.update(d.get("found") or {})
        leaks.update(d.get("leaks") or {})
        blocked += bool(d.get("blocked"))
    total = sum(n for _, n in per_day)
    return {"per_day": [(str(d), float(n)) for d, n in per_day], "total": total, "found": found.most_common(10),
            "leaks": leaks.most_common(10), "blocked": blocked, "sampled": len(recent)}  # fmt: skip


def governance_stats(st: State) -> dict[str, Any]:
    from veil.governance.consent import Consent
    from veil.governance.requests import Requests

    reqs = Requests(st.vault).find()
    open_ = [r for r in reqs if r.status in ("received", "verified", "running", "failed")]
    with st.vault.engine.connect() as conn:
        n_breaches = conn.execute(select(func.count()).select_from(breaches)).scalar_one()
    per_purpose = Consent(st.vault, st.policy).latest_counts()
    return {"requests": reqs, "open": open_, "overdue": [r for r in open_ if r.overdue], "consent": per_purpose,
            "breaches": n_breaches}  # fmt: skip


def budgets(st: State) -> list[dict[str, Any]]:
    """Every DP budget from the ledger (its exact sums), with its 50 newest releases."""
    from veil.dp.ledger import Ledger

    return [
        {"dataset": b.dataset, "epsilon": b.epsilon, "delta": b.delta, "spent": b.spent_epsilon,
         "left": b.remaining_epsilon, "releases": b.spends[::-1][:50]}
        for b in Ledger.of(st.vault).datasets()
    ]  # fmt: skip


def audit_page(st: State, filters: dict[str, str], page: int, size: int = 50) -> tuple[list[Any], int]:
    stmt = select(audit.c.id, audit.c.at, audit.c.actor, audit.c.action, audit.c.result, audit.c.subject,
                  audit.c.purpose, audit.c.details)  # fmt: skip
    count = select(func.count()).select_from(audit)
    for key in ("actor", "action", "result", "subject"):
        if filters.get(key):
            stmt = stmt.where(audit.c[key] == filters[key])
            count = count.where(audit.c[key] == filters[key])
    with st.vault.engine.connect() as conn:
        total = int(conn.execute(count).scalar_one())
        rows = conn.execute(stmt.order_by(audit.c.id.desc()).limit(size).offset(page * size)).all()
    return list(rows), total


_VERIFIED: dict[int, tuple[float, Any]] = {}


def chain_status(st: State, *, refresh: bool = False) -> tuple[float, Any] | None:
    """The audit chain's last verification (verifying 100,000 records takes seconds: done on request)."""
    key = id(st)
    if refresh:
        _VERIFIED[key] = (time.time(), st.vault.audit.verify())
    return _VERIFIED.get(key)


def open_alerts(st: State, limit: int = 100) -> list[dict[str, Any]]:
    """The monitor's open alerts, newest first."""
    from veil.monitor.store import AlertStore

    return AlertStore(st.vault.engine).list("open", None, limit)

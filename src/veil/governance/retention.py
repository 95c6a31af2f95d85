"""Retention: rows older than their purpose's retention period are deleted (with the rows that reference them,
each table by its erasure rule) or anonymized in place (personal columns masked), in batches of one transaction
each; a run stopped halfway leaves whole batches done and the next run does the rest. ``dry_run`` only counts."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from sqlalchemy import Date, DateTime, func, select
from sqlalchemy.exc import SQLAlchemyError

from veil.errors import ConfigError
from veil.governance.erase import Eraser
from veil.governance.locate import Found, key_of, row_key
from veil.governance.sources import SourceSchema, TableInfo
from veil.policy.governance import RetentionRule, TableErasure, period_days

if TYPE_CHECKING:
    from sqlalchemy import ColumnElement, Connection

    from veil.governance.runner import Governor

BATCH = 2_000


def _expired(info: TableInfo, column: str, cutoff: dt.date) -> ColumnElement[bool]:
    col = info.table.c[column]
    if isinstance(col.type, DateTime):
        bound: Any = dt.datetime.combine(cutoff, dt.time(), tzinfo=dt.UTC if col.type.timezone else None)
    elif isinstance(col.type, Date):
        bound = cutoff
    else:
        bound = cutoff.isoformat()  # ISO dates in a text column compare as text
    expired: ColumnElement[bool] = col < bound
    return expired


def _check(schema: SourceSchema, rule: RetentionRule) -> TableInfo:
    info = schema.tables.get(rule.table)
    if info is None:
        raise ConfigError(f"retention: {schema.label} has no table '{rule.table}'")
    if rule.column not in info.columns:
        raise ConfigError(f"retention: {schema.label} has no column {rule.table}.{rule.column}")
    return info


def _one_rule(gov: Governor, schema: SourceSchema, rule: RetentionRule, today: dt.date, dry: bool) -> dict[str, Any]:
    info = _check(schema, rule)
    days = period_days(gov.policy.purposes[rule.purpose].retention or "0d")
    cutoff = today - dt.timedelta(days=days)
    where = _expired(info, rule.column, cutoff)
    out: dict[str, Any] = {
        "source": rule.source,
        "table": rule.table,
        "purpose": rule.purpose,
        "action": rule.action,
        "cutoff": cutoff.isoformat(),
    }
    with schema.engine.connect() as conn:
        out["expired"] = int(conn.execute(select(func.count()).select_from(info.table).where(where)).scalar_one())
    if dry or not out["expired"]:
        return out
    eraser = Eraser(schema, gov.locator(schema))
    override = {rule.table: TableErasure(action="mask")} if rule.action == "anonymize" else None
    totals: dict[str, dict[str, int]] = {}
    after: Any = None
    while True:
        with schema.engine.connect() as conn:
            conn.execution_options(veil_write=True)
            with conn.begin():
                batch, after = _batch(conn, info, where, after)
                if not batch.total:
                    break
                if rule.action == "delete":
                    eraser.locator.follow(conn, batch)
                done = eraser.apply(conn, batch, override)
        for table, counts in done["tables"].items():
            bucket = totals.setdefault(table, {})
            for k, v in counts.items():
                bucket[k] = bucket.get(k, 0) + v
        if after is None:  # no key to page by: one batch held them all
            break
    out["tables"] = totals
    return out


def _batch(conn: Connection, info: TableInfo, where: ColumnElement[bool], after: Any) -> tuple[Found, Any]:
    """The next rows past ``after`` by primary key (keyset paging: an anonymized row is never taken twice)."""
    from sqlalchemy import tuple_

    found = Found()
    stmt = select(*info.table.columns, *([] if info.primary_key else row_key(conn, info))).where(where)
    if info.primary_key:
        cols = [info.table.c[c] for c in info.primary_key]
        if after is not None:
            stmt = stmt.where((cols[0] > after[0]) if len(cols) == 1 else tuple_(*cols) > tuple_(*after))
        stmt = stmt.order_by(*cols).limit(BATCH)
    last = None
    for r in conn.execute(stmt):
        row = dict(r._mapping)
        last = key_of(info, row)
        found.add(info.name, last, row, "retention")
    return found, (last if info.primary_key else None)


def run_retention(gov: Governor, *, dry_run: bool = False, today: dt.date | None = None) -> list[dict[str, Any]]:
    rules = gov.policy.governance.retention
    if not rules:
        raise ConfigError("the policy has no governance.retention rules")
    day = today or dt.datetime.now(dt.UTC).date()
    results = []
    with gov.sources() as sources:
        by_name = {s.name: s for s in sources}
        for rule in rules:
            schema = by_name[rule.source]
            try:
                result = _one_rule(gov, schema, rule, day, dry_run)
            except SQLAlchemyError as exc:
                raise schema.unreachable(exc) from None
            results.append(result)
            gov.vault.audit.append(
                gov.actor,
                "retention.dry_run" if dry_run else "retention.run",
                purpose=rule.purpose,
                **{("rule_" + k if k == "action" else k): v for k, v in result.items() if k != "purpose"},
            )
    return results

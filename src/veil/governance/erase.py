"""Erasure and rectification inside one source, in one transaction: all of it happens, or none of it.

Per table the policy says ``delete`` (default), ``null`` (keep the row, personal columns set to NULL) or ``mask``
(keep the row: free text keeps its words with every finding replaced by ``<ENTITY>``, other personal text becomes
``[erased]``, other personal values NULL). A kept row's links to deleted rows are nulled too. Tables are treated
children first; inside a foreign-key cycle the links are nulled before the rows go. Anything the plan cannot do
(a NOT NULL link to a deleted row) stops it before the first change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from veil.errors import ConfigError
from veil.governance.locate import KEY, Found, Identity, Locator, row_key
from veil.governance.order import CycleError, deletion_order
from veil.governance.sources import Edge, SourceSchema, TableInfo
from veil.policy.governance import TableErasure

if TYPE_CHECKING:
    from sqlalchemy import Connection

_CHUNK = 500
ERASED = "[erased]"
_DONE = {"delete": "deleted", "null": "nulled", "mask": "masked"}
_KIND_ENTITY = {"email": "EMAIL_ADDRESS", "phone": "PHONE_NUMBER"}


@dataclass
class TablePlan:
    table: str
    action: str
    null: set[str] = field(default_factory=set)  # columns set to NULL
    mask: set[str] = field(default_factory=set)  # text columns masked


def _where_keys(conn: Connection, info: TableInfo, keys: list[Any]) -> Any:
    from sqlalchemy import tuple_

    cols = row_key(conn, info)
    if len(cols) == 1:
        return cols[0].in_([k[0] if isinstance(k, tuple) else k for k in keys])
    return tuple_(*cols).in_(keys)


class Eraser:
    def __init__(self, schema: SourceSchema, locator: Locator) -> None:
        self.schema = schema
        self.locator = locator
        self._breaks: list[Edge] = []

    def plan(self, found: Found, override: dict[str, TableErasure] | None = None) -> list[TablePlan]:
        tables = [t for t, rows in found.rows.items() if rows]
        plans = {t: self._table_plan(t, (override or {}).get(t)) for t in tables}
        deleted = {t for t, p in plans.items() if p.action == "delete"}
        for e in self.schema.edges:
            if e.child in plans and e.parent in deleted and plans[e.child].action != "delete" and not e.declared:
                plans[e.child].null.update(e.child_cols)
        for table, refs in found.referrers.items():
            for edge, _row in refs.values():
                if edge.parent in deleted and not edge.nullable:
                    raise ConfigError(
                        f"{self.schema.label}: another subject's row in {table} points at this subject's {edge.parent} "
                        f"row through NOT NULL {table}.{','.join(edge.child_cols)}",
                        hint=f"erase {edge.parent} with null or mask, or make the link nullable",
                    )
        for p in plans.values():
            info = self.schema.tables[p.table]
            strict = [c for c in sorted(p.null) if not info.columns[c].nullable]
            if strict:
                raise ConfigError(
                    f"{self.schema.label}: {p.table}.{strict[0]} is NOT NULL, so erasure cannot {p.action} it",
                    hint=f"erase {p.table} with delete (governance.sources.{self.schema.name}.erase)",
                )
        try:
            order, self._breaks = deletion_order(tables, self.schema.edges)
        except CycleError as exc:
            e = exc.edge
            raise ConfigError(
                f"{self.schema.label}: tables {', '.join(exc.tables)} reference each other through NOT NULL "
                f"{e.child}.{','.join(e.child_cols)}: their rows cannot be deleted one before the other",
                hint="make one of those foreign keys nullable or DEFERRABLE, or erase one of the tables with mask",
            ) from None
        self._breaks = [e for e in self._breaks if e.parent in deleted]
        return [plans[t] for t in order]

    def _table_plan(self, table: str, rule: TableErasure | None = None) -> TablePlan:
        rule = rule or self.schema.source.erasure(table)
        info = self.schema.tables[table]
        plan = TablePlan(table, rule.action)
        if rule.action == "delete":
            return plan
        cols = rule.columns or self.schema.personal_columns(table)
        for c in cols:
            if c not in info.columns:
                raise ConfigError(f"{self.schema.label}: erase names column {table}.{c}, which does not exist")
            col = info.columns[c]
            if c in info.primary_key:
                continue  # the row's own key; links to it are what identify, and those are handled
            if rule.action == "mask" and col.text:
                plan.mask.add(c)
            elif rule.action == "mask" and not col.nullable:
                continue  # a NOT NULL number or date under mask stays: reported as kept
            else:
                plan.null.add(c)
        return plan

    def erase(self, conn: Connection, identities: list[Identity]) -> dict[str, Any]:
        return self.apply(conn, self.locator.locate(conn, identities))

    def apply(self, conn: Connection, found: Found, override: dict[str, TableErasure] | None = None) -> dict[str, Any]:
        """Delete, null or mask every row of ``found`` (``override``: the action of some tables)."""
        plans = self.plan(found, override)
        deleted = {p.table for p in plans if p.action == "delete"}
        unlinked = self._unlink_referrers(conn, found, deleted)
        self._break_cycles(conn, found, plans)
        counts: dict[str, dict[str, int]] = {}
        for p in plans:
            info = self.schema.tables[p.table]
            rows = found.rows[p.table]
            n = self._delete(conn, info, list(rows)) if p.action == "delete" else self._update(conn, info, rows, p)
            counts[p.table] = {"rows": len(rows), _DONE[p.action]: n}
        for table, n in unlinked.items():
            counts.setdefault(table, {})["other_subjects_unlinked"] = n
        return {"tables": counts, "via": {t: sorted(v) for t, v in sorted(found.via.items())}, "found": found}

    def _unlink_referrers(self, conn: Connection, found: Found, deleted: set[str]) -> dict[str, int]:
        """Other subjects' rows pointing at a row that goes: only that link is set to NULL."""
        from sqlalchemy import update

        out: dict[str, int] = {}
        for table, refs in found.referrers.items():
            info = self.schema.tables[table]
            for key, (edge, _row) in refs.items():
                if edge.parent in deleted and key not in found.rows.get(table, {}):
                    where = _where_keys(conn, info, [key])
                    n = conn.execute(update(info.table).where(where).values(dict.fromkeys(edge.child_cols))).rowcount
                    out[table] = out.get(table, 0) + n
        return out

    def _break_cycles(self, conn: Connection, found: Found, plans: list[TablePlan]) -> None:
        """Inside a foreign-key cycle the rows reference each other: cut the nullable links first, then delete."""
        from sqlalchemy import update

        for e in self._breaks:
            info = self.schema.tables[e.child]
            keys = list(found.rows.get(e.child, {}))
            for start in range(0, len(keys), _CHUNK):
                chunk = keys[start : start + _CHUNK]
                where = _where_keys(conn, info, chunk)
                conn.execute(update(info.table).where(where).values(dict.fromkeys(e.child_cols)))

    def _delete(self, conn: Connection, info: TableInfo, keys: list[Any]) -> int:
        from sqlalchemy import delete

        n = 0
        for start in range(0, len(keys), _CHUNK):
            chunk = keys[start : start + _CHUNK]
            n += conn.execute(delete(info.table).where(_where_keys(conn, info, chunk))).rowcount
        return n

    def _update(self, conn: Connection, info: TableInfo, rows: dict[Any, dict[str, Any]], plan: TablePlan) -> int:
        from sqlalchemy import update

        n = 0
        for key, row in rows.items():
            values: dict[str, Any] = {c: None for c in plan.null}
            for c in plan.mask:
                values[c] = self._masked(info, c, row.get(c))
            if values:
                n += conn.execute(update(info.table).where(_where_keys(conn, info, [key])).values(values)).rowcount
        return n

    def _masked(self, info: TableInfo, column: str, value: Any) -> Any:
        if value is None:
            return None
        if column not in info.free_text:
            return ERASED
        text = str(value)
        for f in sorted(self.locator.detector.detect(text), key=lambda f: f.start, reverse=True):
            text = text[: f.start] + f"<{f.entity}>" + text[f.end :]
        return text

    def rectify(self, conn: Connection, identities: list[Identity], target: str, new: str) -> dict[str, Any]:
        """Set ``target`` (a column name or an entity type) to ``new`` in every row of the subject, and replace
        its old values inside the subject's free text."""
        from sqlalchemy import update

        found = self.locator.locate(conn, identities)
        columns = {t: _target_columns_of(self.schema.tables[t], target) for t in found.rows}
        olds = {str(r[c]) for t, rows in found.rows.items() for r in rows.values() for c in columns[t]}
        olds |= {v for k, v in identities if _KIND_ENTITY.get(k) == target}
        olds.discard("")
        alternatives = "|".join(re.escape(o) for o in sorted(olds, key=len, reverse=True))
        pattern = re.compile(alternatives, re.IGNORECASE) if olds else None
        counts: dict[str, int] = {}
        for table, rows in found.rows.items():
            info = self.schema.tables[table]
            changed = 0
            for key, row in rows.items():
                values: dict[str, Any] = {c: new for c in columns[table] if row.get(c) not in (None, new)}
                for c in info.free_text:
                    text = row.get(c)
                    if pattern is not None and isinstance(text, str) and pattern.search(text):
                        values[c] = pattern.sub(lambda _m: new, text)
                if values:
                    where = _where_keys(conn, info, [key])
                    changed += conn.execute(update(info.table).where(where).values(values)).rowcount
            if changed:
                counts[table] = changed
        return {"tables": counts, "found": found}


def _target_columns_of(info: TableInfo, target: str) -> list[str]:
    return [
        c.name
        for c in info.columns.values()
        if c.name == target or (target.isupper() and target in c.entities and c.role != "free_text")
    ]


def has_target(schema: SourceSchema, target: str) -> bool:
    """Whether a column of the source is named ``target`` or classified as that entity."""
    return any(c.name == target or target in c.entities for i in schema.tables.values() for c in i.columns.values())


__all__ = ["ERASED", "KEY", "Eraser", "TablePlan", "has_target"]

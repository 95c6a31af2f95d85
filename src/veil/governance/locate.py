"""Find one data subject's rows in a source: identity columns, free text the detector confirms, foreign keys.

Seeds are rows whose identity column holds the identifier (e-mail compared case-insensitively, phone numbers
compared in E.164 form, ids exactly) and rows whose free text holds it as a finding of the detector (a SQL
``LIKE`` narrows the candidates, the detector confirms each). From the seeds, rows that reference a found row are
followed through every foreign key and declared reference, breadth first, each row visited once (so a cycle in
the schema ends). Rows a found row points to (a product of an order) are not the subject's. Identifiers found
beside the given one on an identity row (the e-mail of the customer found by phone) are searched too, up to 20.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import phonenumbers

from veil.errors import InputError
from veil.governance.sources import Edge, SourceSchema, TableInfo
from veil.governance.subjects import Kind, normalize

if TYPE_CHECKING:
    from sqlalchemy import ColumnElement, Connection

    from veil.detect.engine import Detector

_CHUNK = 500
KEY = "__veil_key"
MAX_IDENTITIES = 20
Row = dict[str, Any]
Identity = tuple[Kind, str]


@dataclass
class Found:
    """The subject's rows per table (by primary key, or rowid / ctid where a table has none) and why each
    table was reached."""

    rows: dict[str, dict[Any, Row]] = field(default_factory=dict)
    via: dict[str, set[str]] = field(default_factory=dict)
    # rows of *other* subjects (in a table with identity columns) that point at the subject's rows: not the
    # subject's data, but their link must be cut when the row they point at is deleted
    referrers: dict[str, dict[Any, tuple[Edge, Row]]] = field(default_factory=dict)

    def add(self, table: str, key: Any, row: Row, reason: str) -> bool:
        bucket = self.rows.setdefault(table, {})
        self.via.setdefault(table, set()).add(reason)
        if key in bucket:
            return False
        bucket[key] = row
        return True

    def counts(self) -> dict[str, int]:
        return {t: len(r) for t, r in sorted(self.rows.items()) if r}

    @property
    def total(self) -> int:
        return sum(len(r) for r in self.rows.values())


def row_key(conn: Connection, info: TableInfo) -> list[ColumnElement[Any]]:
    """The columns that name a row: its primary key, else SQLite's rowid or PostgreSQL's ctid (as text; stable
    within the transaction that found the row and changes it)."""
    from sqlalchemy import String, cast, literal_column

    if info.primary_key:
        return [info.table.c[c] for c in info.primary_key]
    if conn.dialect.name == "postgresql":
        return [cast(literal_column("ctid"), String).label(KEY)]
    return [literal_column("rowid").label(KEY)]


def key_of(info: TableInfo, row: Row) -> Any:
    if info.primary_key:
        return tuple(row[c] for c in info.primary_key)
    return row[KEY]


def _like_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class Locator:
    def __init__(self, schema: SourceSchema, detector: Detector, region: str = "US") -> None:
        self.schema = schema
        self.detector = detector
        self.region = region

    def _select(self, conn: Connection, info: TableInfo, where: ColumnElement[bool]) -> list[Row]:
        from sqlalchemy import select

        keys = [] if info.primary_key else row_key(conn, info)
        stmt = select(*info.table.columns, *keys).where(where)
        return [dict(r._mapping) for r in conn.execute(stmt)]

    def same(self, kind: Kind, stored: Any, value: str) -> bool:
        """Whether a stored cell holds the identifier ``value`` (already normalized for ``kind``)."""
        if stored is None:
            return False
        text = str(stored).strip()
        if kind == "email":
            return text.lower() == value
        if kind == "phone":
            try:
                return normalize(text, "phone", self.region) == value
            except Exception:
                return False
        return text == value

    def _identity_rows(self, conn: Connection, info: TableInfo, col: str, kind: Kind, value: str) -> list[Row]:
        from sqlalchemy import String, cast, func

        column = info.table.c[col]
        where: ColumnElement[bool]
        if kind == "phone":
            digits = re.sub(r"\D", "", value)[-4:]
            where = cast(column, String).like(f"%{digits}")
        elif kind == "email":
            where = func.lower(cast(column, String)) == value
        else:
            where = cast(column, String) == value
        return [r for r in self._select(conn, info, where) if self.same(kind, r[col], value)]

    def _text_rows(self, conn: Connection, info: TableInfo, col: str, kind: Kind, value: str) -> list[Row]:
        from sqlalchemy import String, cast, func

        needle = re.sub(r"\D", "", value)[-4:] if kind == "phone" else value.lower()
        where = func.lower(cast(info.table.c[col], String)).like(f"%{_like_escape(needle)}%", escape="\\")
        return [r for r in self._select(conn, info, where) if self.mentions(str(r[col] or ""), kind, value)]

    def mentions(self, text: str, kind: Kind, value: str) -> bool:
        """Whether the detector finds the identifier in ``text`` (an id: as a whole word)."""
        if kind == "id":
            return re.search(rf"(?<![\w]){re.escape(value)}(?![\w])", text) is not None
        entity = "EMAIL_ADDRESS" if kind == "email" else "PHONE_NUMBER"
        return any(f.entity == entity and self.same(kind, f.value, value) for f in self.detector.detect(text))

    def seeds(self, conn: Connection, kind: Kind, value: str, found: Found) -> list[Identity]:
        """Add the rows holding the identifier; returns the other identifiers those rows' identity columns hold
        (the e-mail on the customer row found by phone)."""
        derived: list[Identity] = []
        for info in self.schema.tables.values():
            for col, col_kind in info.identity.items():
                if col_kind not in (kind, "any"):
                    continue
                for row in self._identity_rows(conn, info, col, kind, value):
                    found.add(info.name, key_of(info, row), row, f"identity {col}")
                    derived += self._identities_of(info, row)
            for col in info.free_text:
                for row in self._text_rows(conn, info, col, kind, value):
                    found.add(info.name, key_of(info, row), row, f"text {col}")
        return derived

    def _identities_of(self, info: TableInfo, row: Row) -> list[Identity]:
        out: list[Identity] = []
        for col, col_kind in info.identity.items():
            cell = row.get(col)
            if col_kind in ("email", "phone") and isinstance(cell, str) and cell.strip():
                try:
                    out.append((col_kind, normalize(cell, col_kind, self.region)))  # type: ignore[arg-type]
                except InputError:
                    continue
        return out

    def expand(self, conn: Connection, identities: list[Identity], limit: int = MAX_IDENTITIES) -> list[Identity]:
        """``identities`` and every identifier found beside them on identity rows, transitively, up to ``limit``."""
        known = list(dict.fromkeys(identities))
        i = 0
        while i < len(known):
            for more in self.seeds(conn, *known[i], Found()):
                if more not in known and len(known) < limit:
                    known.append(more)
            i += 1
        return known

    def follow(self, conn: Connection, found: Found) -> None:
        queue = deque(t for t in found.rows if found.rows[t])
        while queue:
            parent = queue.popleft()
            for edge in self.schema.children(parent):
                if self._follow_edge(conn, edge, found):
                    queue.append(edge.child)

    def _follow_edge(self, conn: Connection, edge: Edge, found: Found) -> bool:
        from sqlalchemy import tuple_

        values = {tuple(r[c] for c in edge.parent_cols) for r in found.rows.get(edge.parent, {}).values()}
        values = {v for v in values if None not in v}
        info = self.schema.tables[edge.child]
        cols = [info.table.c[c] for c in edge.child_cols]
        reason = f"{'reference' if edge.declared else 'foreign key'} {edge.child}.{','.join(edge.child_cols)}"
        grew = False
        ordered = sorted(values, key=repr)
        mine = found.rows.get(edge.child, {})
        for start in range(0, len(ordered), _CHUNK):
            chunk = ordered[start : start + _CHUNK]
            where = cols[0].in_([v[0] for v in chunk]) if len(cols) == 1 else tuple_(*cols).in_(chunk)
            for row in self._select(conn, info, where):
                key = key_of(info, row)
                if info.identity and key not in mine:  # a row of a person who is not this subject (a buddy link)
                    found.referrers.setdefault(edge.child, {})[key] = (edge, row)
                    continue
                grew |= found.add(edge.child, key, row, reason)
        return grew

    def locate(self, conn: Connection, identities: list[Identity]) -> Found:
        """The rows of the subject known by ``identities`` (see :meth:`expand`), foreign keys followed."""
        found = Found()
        for kind, value in identities:
            self.seeds(conn, kind, value, found)
        self.follow(conn, found)
        return found


def phone_region(locale: str) -> str:
    region = locale.split("_")[-1].upper() if "_" in locale else "US"
    return region if region in phonenumbers.SUPPORTED_REGIONS else "US"

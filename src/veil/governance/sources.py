"""The databases a policy's ``governance.sources`` names: their engines, schema graph and personal columns.

The graph's edges are the foreign keys read from the schema plus the references the policy declares where a
schema has none; each edge points from a child column to the parent column it holds a value of. Which columns
identify a subject, and which hold free text, comes from the data map (a saved ``veil scan-db --out`` file, or a
scan made on the spot) and the policy's ``identity`` declarations.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from veil.errors import ConfigError, InputError
from veil.policy.governance import Source, parse_reference

if TYPE_CHECKING:
    from sqlalchemy import Engine, Table

    from veil.detect.engine import Detector

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
IDENTITY_ENTITIES = {"email": {"EMAIL_ADDRESS"}, "phone": {"PHONE_NUMBER"}, "id": set()}
PERSONAL_ROLES = {"identifier", "quasi_identifier", "free_text", "sensitive"}


def expand(url: str, name: str) -> str:
    def sub(match: re.Match[str]) -> str:
        value = os.environ.get(match.group(1))
        if value is None:
            raise ConfigError(f"source '{name}': environment variable {match.group(1)} is not set")
        return value

    return _VAR.sub(sub, url)


def safe_url(url: str) -> str:
    """The URL without its password, for messages and records."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable URL>"


def _sqlite_transactions(engine: Engine) -> None:
    """Foreign keys enforced, and a write transaction takes the write lock up front (BEGIN IMMEDIATE), so the rows an
    erasure found cannot change before it deletes them. The source's journal mode is left as the owner set it."""
    from sqlalchemy import event

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        dbapi_conn.execute("PRAGMA foreign_keys=ON")
        dbapi_conn.execute("PRAGMA busy_timeout=30000")

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        write = conn.get_execution_options().get("veil_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


@dataclass(frozen=True)
class Edge:
    child: str
    child_cols: tuple[str, ...]
    parent: str
    parent_cols: tuple[str, ...]
    declared: bool = False
    nullable: bool = True  # every child column may be NULL (the link can be cut before a delete)


@dataclass
class ColumnInfo:
    name: str
    nullable: bool
    text: bool
    role: str = "other"
    entities: tuple[str, ...] = ()

    @property
    def personal(self) -> bool:
        return bool(self.entities) or self.role in PERSONAL_ROLES


@dataclass
class TableInfo:
    name: str
    table: Table
    columns: dict[str, ColumnInfo]
    primary_key: tuple[str, ...]
    identity: dict[str, str] = field(default_factory=dict)  # column -> identifier kind it holds ("any": declared)
    free_text: list[str] = field(default_factory=list)


class SourceSchema:
    """One source: engine, tables, edges, identity and free-text columns."""

    def __init__(self, name: str, source: Source, *, detector: Detector | None = None, base: Path | None = None):
        self.name = name
        self.source = source
        self.url = expand(source.url, name)
        self.label = f"source '{name}' ({safe_url(self.url)})"
        self.engine = self._open()
        self.tables: dict[str, TableInfo] = {}
        self.edges: list[Edge] = []
        self._reflect()
        self._classify(detector, base)

    def _open(self) -> Engine:
        from sqlalchemy import create_engine
        from sqlalchemy.exc import ArgumentError, NoSuchModuleError

        if self.url.startswith("sqlite:///"):
            path = self.url.removeprefix("sqlite:///")
            if not path or not os.path.isfile(path):
                raise InputError(f"{self.label}: no such database file")
        elif not self.url.startswith(("postgresql", "sqlite")):
            raise ConfigError(f"{self.label}: governance sources are SQLite or PostgreSQL databases")
        if self.url.startswith("postgresql://"):
            self.url = "postgresql+psycopg://" + self.url[len("postgresql://") :]
        try:
            engine = create_engine(self.url, pool_pre_ping=True)
        except (ArgumentError, NoSuchModuleError) as exc:
            raise ConfigError(f"{self.label}: not a usable database URL ({type(exc).__name__})") from None
        if engine.dialect.name == "sqlite":
            _sqlite_transactions(engine)
        return engine

    def unreachable(self, exc: BaseException) -> InputError:
        """A database error as Veil's: the driver's first line (never a statement or its parameters)."""
        from sqlalchemy.exc import OperationalError

        orig = getattr(exc, "orig", None) or exc
        first = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
        hint = "check the source is up, then run it again" if isinstance(exc, OperationalError) else None
        return InputError(f"{self.label} failed: {first[:200]}", hint=hint)

    def _reflect(self) -> None:
        from sqlalchemy import MetaData, String, Text
        from sqlalchemy.exc import OperationalError

        meta = MetaData()
        try:
            meta.reflect(self.engine, only=self.source.tables)
        except OperationalError as exc:
            raise self.unreachable(exc) from None
        except Exception as exc:  # a named table that is not there
            if type(exc).__name__ == "InvalidRequestError":
                raise InputError(f"{self.label}: {str(exc).splitlines()[0]}") from None
            raise
        for name, table in meta.tables.items():
            if name.startswith("veil_") or "__veil_tmp_" in name:
                continue
            cols = {
                c.name: ColumnInfo(c.name, bool(c.nullable), isinstance(c.type, String | Text)) for c in table.columns
            }
            pk = tuple(c.name for c in table.primary_key.columns)
            self.tables[name] = TableInfo(name, table, cols, pk)
            for fk in table.foreign_key_constraints:
                parent = fk.referred_table.name
                nullable = all(table.c[c].nullable for c in fk.column_keys)
                parents = tuple(e.column.name for e in fk.elements)
                self.edges.append(Edge(name, tuple(fk.column_keys), parent, parents, nullable=nullable))
        for ref in self.source.references:
            child, ccol, parent, pcol = parse_reference(ref)
            for tname, col in ((child, ccol), (parent, pcol)):
                if tname not in self.tables or col not in self.tables[tname].columns:
                    raise ConfigError(f"{self.label}: reference '{ref}' names {tname}.{col}, which does not exist")
            self.edges.append(Edge(child, (ccol,), parent, (pcol,), declared=True))

    def _classify(self, detector: Detector | None, base: Path | None) -> None:
        data_map = self._data_map(detector, base)
        self.data_map = data_map
        for tname, tmap in data_map.get("tables", {}).items():
            info = self.tables.get(tname)
            if info is None:
                continue
            for cname, cmap in tmap.get("columns", {}).items():
                col = info.columns.get(cname)
                if col is None:
                    continue
                col.role = str(cmap.get("role", "other"))
                col.entities = tuple(e["entity"] for e in cmap.get("entities", []))
                if col.role == "free_text" and col.text:
                    info.free_text.append(cname)
                for kind, ents in IDENTITY_ENTITIES.items():
                    if col.role != "free_text" and col.text and ents & set(col.entities):
                        info.identity[cname] = kind
        for tname, cols in self.source.identity.items():
            if tname not in self.tables:
                raise ConfigError(f"{self.label}: identity names table '{tname}', which does not exist")
            for cname in cols:
                if cname not in self.tables[tname].columns:
                    raise ConfigError(f"{self.label}: identity names column {tname}.{cname}, which does not exist")
                self.tables[tname].identity[cname] = "any"

    def _data_map(self, detector: Detector | None, base: Path | None) -> dict[str, Any]:
        path = self.source.datamap_path(base)
        if path is not None:
            try:
                loaded = json.loads(path.read_text(encoding="utf-8"))
            except FileNotFoundError:
                raise ConfigError(
                    f"{self.label}: data map {path} not found", hint="veil scan-db URL --out FILE"
                ) from None
            except (OSError, ValueError, UnicodeDecodeError):
                raise ConfigError(f"{self.label}: {path} is not a data map (JSON from veil scan-db --out)") from None
            if not isinstance(loaded, dict) or not isinstance(loaded.get("tables"), dict):
                raise ConfigError(f"{self.label}: {path} is not a data map (no 'tables')")
            return loaded
        if detector is None:
            return {"tables": {}}
        from veil.tabular.datamap import scan_database
        from veil.tabular.location import Location

        loc = Location("sql", self.url, None)
        return scan_database(loc, detector, tables=sorted(self.tables)).to_dict()

    def children(self, parent: str) -> list[Edge]:
        return [e for e in self.edges if e.parent == parent]

    def personal_columns(self, table: str) -> list[str]:
        info = self.tables[table]
        return [c.name for c in info.columns.values() if c.personal or c.name in info.identity]

    def volumes(self) -> dict[str, dict[str, int]]:
        """Rows per table and, where a table has an identity column, the distinct identities in it."""
        from sqlalchemy import distinct, func, select
        from sqlalchemy.exc import SQLAlchemyError

        out: dict[str, dict[str, int]] = {}
        try:
            with self.engine.connect() as conn:
                for name, info in sorted(self.tables.items()):
                    rows = conn.execute(select(func.count()).select_from(info.table)).scalar_one()
                    entry = {"rows": int(rows)}
                    for col in info.identity:
                        n = conn.execute(select(func.count(distinct(info.table.c[col])))).scalar_one()
                        entry["identities"] = max(entry.get("identities", 0), int(n))
                    out[name] = entry
        except SQLAlchemyError as exc:
            raise self.unreachable(exc) from None
        return out

    def close(self) -> None:
        self.engine.dispose()

"""Where a table lives: a file (CSV, TSV, Parquet, JSONL) or a table in a database (SQLAlchemy URL or DuckDB).

Forms a user can type::

    people.csv   people.tsv   people.parquet   people.jsonl   (.ndjson)
    sqlite:///crm.db#customers          postgresql+psycopg://user@host/db#public.customers
    duckdb:///warehouse.duckdb#events   warehouse.duckdb#events

The table of a database is given after ``#`` (or with ``--table``); ``scan-db`` takes the URL alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from veil.errors import InputError

Kind = Literal["csv", "parquet", "jsonl", "sql", "duckdb"]
FILE_KINDS: dict[str, Kind] = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}
_TABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*(?:\.[A-Za-z_][A-Za-z0-9_$]*)?$")
_FORMS = "a .csv/.tsv/.parquet/.jsonl file, sqlite:///FILE#TABLE, postgresql://...#TABLE or duckdb:///FILE#TABLE"


@dataclass(frozen=True)
class Location:
    kind: Kind
    target: str  # file path, SQLAlchemy URL or DuckDB file
    table: str | None = None
    separator: str = ","
    quote: str = '"'

    @property
    def is_file(self) -> bool:
        return self.kind in ("csv", "parquet", "jsonl")

    @property
    def schema(self) -> str | None:
        return self.table.split(".", 1)[0] if self.table and "." in self.table else None

    @property
    def bare_table(self) -> str:
        assert self.table is not None
        return self.table.split(".", 1)[-1]

    def __str__(self) -> str:
        if self.is_file:
            return self.target
        shown = _hide_password(self.target) if self.kind == "sql" else f"duckdb:///{self.target}"
        return f"{shown}#{self.table}" if self.table else shown


def _hide_password(url: str) -> str:
    return re.sub(r"(://[^:/@]+:)[^@]*@", r"\1***@", url)


def parse_location(text: str, table: str | None = None, *, need_table: bool = True) -> Location:
    """Parse a source or sink; ``table`` (from ``--table``) overrides a ``#TABLE`` suffix."""
    if not text or not text.strip():
        raise InputError("no table source given", hint=f"give {_FORMS}")
    text = text.strip()
    url, _, fragment = text.rpartition("#") if "#" in text else (text, "", "")
    name = table or fragment or None
    if name is not None and not _TABLE.match(name):
        raise InputError(f"'{name}' is not a table name (letters, digits and _, optionally schema.table)")
    if url.startswith("duckdb://"):
        return _database("duckdb", url.removeprefix("duckdb:///").removeprefix("duckdb://"), name, need_table)
    if "://" in url:
        if not re.match(r"^(sqlite|postgresql|postgres)(\+\w+)?://", url):
            scheme = url.split("://", 1)[0]
            hint = "use sqlite://, postgresql:// or duckdb://"
            raise InputError(f"unsupported database URL scheme '{scheme}'", hint=hint)
        if url.startswith("postgres://"):
            url = "postgresql://" + url.removeprefix("postgres://")
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
        return _database("sql", url, name, need_table)
    suffix = Path(url).suffix.lower()
    if suffix in (".duckdb", ".ddb"):
        return _database("duckdb", url, name, need_table)
    if suffix in (".db", ".sqlite", ".sqlite3"):
        return _database("sql", f"sqlite:///{url}", name, need_table)
    if suffix in (".xlsx", ".xls", ".ods"):
        raise InputError(f"{url}: spreadsheets are not read directly", hint="export the sheet to CSV first")
    kind = FILE_KINDS.get(suffix)
    if kind is None:
        raise InputError(f"{url}: cannot tell the format from '{suffix or 'no extension'}'", hint=f"give {_FORMS}")
    return Location(kind, url, None, "\t" if suffix == ".tsv" else ",")


def _database(kind: Kind, target: str, table: str | None, need_table: bool) -> Location:
    if need_table and table is None:
        raise InputError("which table? add #TABLE to the URL or give --table")
    return Location(kind, target, table)

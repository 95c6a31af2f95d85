"""Database tables: SQLAlchemy (SQLite, PostgreSQL) and DuckDB, read with server-side cursors in batches.

Writing goes to a fresh table named ``<target>__veil_tmp_<owner>_<hex>``; only when every batch is in, one
transaction drops the old target (with ``overwrite``) and renames the new table into place. A failed run drops its
temporary table and leaves the target as it was; one left by a killed process of this host is dropped by the next
run that writes the same target.
"""

from __future__ import annotations

import datetime as dt
import decimal
import os
import re
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from veil.errors import InputError
from veil.tabular.location import Location
from veil.tabular.readers import as_text
from veil.textio_out import owner_gone, owner_tag

if TYPE_CHECKING:
    import polars as pl
    from sqlalchemy import Engine, Table


def _engine(location: Location, *, create: bool = False) -> Engine:
    """An engine for a database URL; an SQLite file that does not exist is an error unless ``create`` (a sink):
    reading a mistyped path must not leave an empty database behind."""
    from sqlalchemy import create_engine
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    if location.target.startswith("sqlite:///") and not create:
        path = location.target.removeprefix("sqlite:///")
        if path and path != ":memory:" and not os.path.isfile(path):
            raise InputError(f"{location.target}: no such database file")
    try:
        return create_engine(location.target)
    except (ArgumentError, NoSuchModuleError) as exc:
        raise InputError(f"{location}: not a usable database URL: {exc}") from None


def _reflect(engine: Engine, location: Location) -> Table:
    from sqlalchemy import MetaData, Table
    from sqlalchemy.exc import NoSuchTableError, OperationalError

    try:
        return Table(location.bare_table, MetaData(), schema=location.schema, autoload_with=engine)
    except NoSuchTableError:
        raise InputError(f"{location}: no such table") from None
    except OperationalError as exc:
        raise InputError(f"{location}: cannot connect: {str(exc.orig).strip()}") from None


def _polars_type(sql_type: Any) -> Any:
    import polars as pl
    from sqlalchemy import types as t

    mapping: list[tuple[type[Any], Any]] = [
        (t.Boolean, pl.Boolean),
        (t.Integer, pl.Int64),
        (t.Float, pl.Float64),
        (t.Numeric, pl.Float64),
        (t.DateTime, pl.Datetime("us")),
        (t.Date, pl.Date),
        (t.LargeBinary, pl.Binary),
        (t.String, pl.Utf8),
    ]
    for cls, dtype in mapping:
        if isinstance(sql_type, cls):
            return dtype
    return pl.Utf8


def _column(name: str, values: list[Any], dtype: Any, dirty: set[str], warnings: list[str]) -> pl.Series:
    """A typed column; a column whose cells do not fit its declared type (SQLite allows that) becomes text."""
    import polars as pl

    if name not in dirty:
        try:
            return pl.Series(name, values, dtype=dtype, strict=True)
        except (TypeError, ValueError, OverflowError, pl.exceptions.PolarsError):
            dirty.add(name)
            warnings.append(f"column '{name}' holds values of mixed types: read as text")
    return pl.Series(name, as_text(values), dtype=pl.Utf8)


def read_sql(location: Location, batch_rows: int, warnings: list[str]) -> Iterator[pl.DataFrame]:
    import polars as pl
    from sqlalchemy import select
    from sqlalchemy.exc import SQLAlchemyError

    engine = _engine(location)
    try:
        table = _reflect(engine, location)
        names = [c.name for c in table.columns]
        types = [_polars_type(c.type) for c in table.columns]
        dirty: set[str] = set()
        sent = False
        with engine.connect() as conn:
            result = conn.execution_options(stream_results=True, yield_per=batch_rows).execute(select(table))
            for rows in result.partitions(batch_rows):
                cols = list(zip(*rows, strict=True)) if rows else [() for _ in names]
                series = [_column(n, list(v), d, dirty, warnings) for n, v, d in zip(names, cols, types, strict=True)]
                sent = True
                yield pl.DataFrame(series)
        if not sent:
            yield pl.DataFrame(schema=dict(zip(names, types, strict=True)))
    except SQLAlchemyError as exc:
        raise InputError(f"{location}: {type(exc).__name__}: {str(getattr(exc, 'orig', exc)).strip()}") from None
    finally:
        engine.dispose()


def _duck(location: Location, read_only: bool) -> Any:
    try:
        import duckdb
    except ImportError:
        from veil.errors import MissingExtraError

        raise MissingExtraError("tabular", "duckdb") from None
    try:
        return duckdb.connect(location.target, read_only=read_only)
    except duckdb.Error as exc:
        raise InputError(f"{location}: cannot open the DuckDB file: {exc}") from None


def _quoted(location: Location) -> str:
    return ".".join('"' + p.replace('"', '""') + '"' for p in (location.table or "").split("."))


def read_duckdb(location: Location, batch_rows: int) -> Iterator[pl.DataFrame]:
    import duckdb
    import polars as pl

    con = _duck(location, read_only=True)
    try:
        try:
            reader = con.sql(f"SELECT * FROM {_quoted(location)}").to_arrow_reader(batch_rows)
        except duckdb.Error as exc:
            raise InputError(f"{location}: {str(exc).splitlines()[0]}") from None
        sent = False
        for batch in reader:
            sent = True
            frame = pl.from_arrow(batch)
            assert isinstance(frame, pl.DataFrame)
            yield frame
        if not sent:
            empty = pl.from_arrow(reader.schema.empty_table())
            assert isinstance(empty, pl.DataFrame)
            yield empty
    finally:
        con.close()


def list_tables(location: Location) -> list[str]:
    """Every table of a database (schema-qualified outside the default schema)."""
    if location.kind == "duckdb":
        con = _duck(location, read_only=True)
        try:
            rows = con.execute(
                "SELECT table_schema, table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE' "
                "ORDER BY 1, 2"
            ).fetchall()
        finally:
            con.close()
        return [name if schema == "main" else f"{schema}.{name}" for schema, name in rows]
    from sqlalchemy import inspect
    from sqlalchemy.exc import SQLAlchemyError

    engine = _engine(location)
    try:
        insp = inspect(engine)
        default = insp.default_schema_name
        out = []
        for schema in insp.get_schema_names():
            if schema in ("information_schema", "pg_catalog", "pg_toast"):
                continue
            for name in insp.get_table_names(schema=schema):
                out.append(name if schema == default else f"{schema}.{name}")
        return out
    except SQLAlchemyError as exc:
        raise InputError(f"{location}: cannot list tables: {str(getattr(exc, 'orig', exc)).strip()}") from None
    finally:
        engine.dispose()


def _sql_type(dtype: Any) -> Any:
    import polars as pl
    from sqlalchemy import types as t

    if dtype == pl.Boolean:
        return t.Boolean()
    if dtype.is_integer():
        return t.BigInteger()
    if dtype.is_float() or dtype.is_decimal():
        return t.Float()
    if dtype == pl.Date:
        return t.Date()
    if isinstance(dtype, pl.Datetime):
        return t.DateTime()
    if dtype == pl.Binary:
        return t.LargeBinary()
    return t.Text()


def _python(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, dt.time):
        return value.isoformat()
    return value


def temp_table_name(table: str) -> str:
    """``<table>__veil_tmp_<owner>_<hex>``: the owner (host hash and pid) lets a later run drop it if it died."""
    return f"{table}__veil_tmp_{owner_tag()}_{uuid.uuid4().hex[:6]}"


def stale_temp_tables(names: list[str], table: str) -> list[str]:
    """Temporary tables of ``table`` whose writing process has died (kill -9, power loss)."""
    pattern = re.compile(rf"{re.escape(table)}__veil_tmp_([0-9a-f]{{6}}_\d+)_[0-9a-f]{{6}}", re.IGNORECASE)
    return [n for n in names if (m := pattern.fullmatch(n)) and owner_gone(m.group(1))]


def _sweep_sql(engine: Engine, location: Location) -> None:
    from sqlalchemy import inspect, text

    names = inspect(engine).get_table_names(schema=location.schema)
    prep = engine.dialect.identifier_preparer
    schema = f"{prep.quote(location.schema)}." if location.schema else ""
    for name in stale_temp_tables(names, location.bare_table):
        with engine.begin() as conn:
            conn.execute(text(f"DROP TABLE IF EXISTS {schema}{prep.quote(name)}"))


def _sweep_duck(con: Any, schema: str, table: str) -> None:
    rows = con.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = ?", [schema]).fetchall()
    for name in stale_temp_tables([r[0] for r in rows], table):
        con.execute(f'DROP TABLE IF EXISTS "{schema}"."{name}"')


class SqlSink:
    """Write batches into a temporary table; :meth:`commit` swaps it in, :meth:`abort` drops it."""

    def __init__(self, location: Location, *, overwrite: bool) -> None:
        from sqlalchemy import inspect

        self.location = location
        self.overwrite = overwrite
        self.engine = _engine(location, create=True)
        exists = inspect(self.engine).has_table(location.bare_table, schema=location.schema)
        if exists and not overwrite:
            self.engine.dispose()
            raise InputError(f"{location}: the table exists", hint="give --overwrite to replace it")
        _sweep_sql(self.engine, location)
        self.tmp_name = temp_table_name(location.bare_table)
        self.table: Table | None = None

    def write(self, frame: pl.DataFrame) -> None:
        from sqlalchemy import Column, MetaData, Table

        if self.table is None:
            cols = [Column(name, _sql_type(dtype)) for name, dtype in frame.schema.items()]
            self.table = Table(self.tmp_name, MetaData(), *cols, schema=self.location.schema)
            self.table.create(self.engine)
        if frame.height:
            rows = [{k: _python(v) for k, v in row.items()} for row in frame.iter_rows(named=True)]
            with self.engine.begin() as conn:
                conn.execute(self.table.insert(), rows)

    def commit(self) -> None:
        from sqlalchemy import text

        assert self.table is not None, "nothing was written"
        prep = self.engine.dialect.identifier_preparer
        schema = f"{prep.quote(self.location.schema)}." if self.location.schema else ""
        target = prep.quote(self.location.bare_table)
        with self.engine.begin() as conn:
            if self.overwrite:
                conn.execute(text(f"DROP TABLE IF EXISTS {schema}{target}"))
            conn.execute(text(f"ALTER TABLE {schema}{prep.quote(self.tmp_name)} RENAME TO {target}"))
        self.engine.dispose()

    def abort(self) -> None:
        if self.table is not None:
            self.table.drop(self.engine, checkfirst=True)
        self.engine.dispose()


class DuckSink:
    def __init__(self, location: Location, *, overwrite: bool) -> None:
        self.location = location
        self.overwrite = overwrite
        self.con = _duck(location, read_only=False)
        schema = location.schema or "main"
        found = self.con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
            [schema, location.bare_table],
        ).fetchone()
        if found and found[0] and not overwrite:
            self.con.close()
            raise InputError(f"{location}: the table exists", hint="give --overwrite to replace it")
        _sweep_duck(self.con, schema, location.bare_table)
        self.tmp = f'"{schema}"."{temp_table_name(location.bare_table)}"'
        self.created = False

    def write(self, frame: pl.DataFrame) -> None:
        batch = frame.to_arrow()  # noqa: F841 - DuckDB reads the local variable by name
        if not self.created:
            self.con.execute(f"CREATE TABLE {self.tmp} AS SELECT * FROM batch")
            self.created = True
        else:
            self.con.execute(f"INSERT INTO {self.tmp} SELECT * FROM batch")

    def commit(self) -> None:
        target = _quoted(self.location)
        self.con.execute("BEGIN TRANSACTION")
        if self.overwrite:
            self.con.execute(f"DROP TABLE IF EXISTS {target}")
        self.con.execute(f'ALTER TABLE {self.tmp} RENAME TO "{self.location.bare_table}"')
        self.con.execute("COMMIT")
        self.con.close()

    def abort(self) -> None:
        if self.created:
            self.con.execute(f"DROP TABLE IF EXISTS {self.tmp}")
        self.con.close()

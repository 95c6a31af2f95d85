"""Write a table batch by batch, atomically: the target appears whole when the run succeeds, or not at all.

Files are written to a temporary file beside the target and renamed into place on success (the old file stays
until then); database tables go through a temporary table (see :mod:`veil.tabular.sql`). A sink that is the
source itself is refused: the source would be overwritten while it is read.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Protocol

from veil.errors import InputError
from veil.tabular.location import Location
from veil.textio_out import check_target, temp_beside

if TYPE_CHECKING:
    import polars as pl


class Sink(Protocol):
    def write(self, frame: pl.DataFrame) -> None: ...
    def commit(self) -> None: ...
    def abort(self) -> None: ...


class FileSink:
    def __init__(self, location: Location, *, overwrite: bool) -> None:
        path = check_target(location.target, overwrite=overwrite)  # never a link, a device or an unflagged file
        self.location = location
        self.path = path
        fd, self.tmp = temp_beside(path)
        self._fh: IO[bytes] = os.fdopen(fd, "wb")
        self._parquet: Any = None
        self._schema: Any = None
        self._first = True

    def write(self, frame: pl.DataFrame) -> None:
        kind = self.location.kind
        if kind == "csv":
            frame.write_csv(self._fh, include_header=self._first, separator=self.location.separator)
        elif kind == "jsonl":
            frame.write_ndjson(self._fh)
        else:
            self._write_parquet(frame)
        self._first = False

    def _write_parquet(self, frame: pl.DataFrame) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = frame.to_arrow()
        if self._parquet is None:
            self._schema = table.schema
            self._parquet = pq.ParquetWriter(self._fh, self._schema, compression="zstd")
        elif table.schema != self._schema:
            try:
                table = table.cast(self._schema)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                raise InputError(f"{self.path}: a later batch does not fit the first batch's columns: {exc}") from None
        self._parquet.write_table(table)

    def commit(self) -> None:
        if self._parquet is not None:
            self._parquet.close()
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self._fh.close()
        os.replace(self.tmp, self.path)

    def abort(self) -> None:
        try:
            if self._parquet is not None:
                self._parquet.close()
        except Exception:
            pass
        self._fh.close()
        self.tmp.unlink(missing_ok=True)


def same_place(a: Location, b: Location) -> bool:
    if a.is_file and b.is_file:
        pa_, pb = Path(a.target), Path(b.target)
        return pa_.exists() and pb.exists() and pa_.resolve() == pb.resolve()
    return a.kind == b.kind and a.target == b.target and (a.table or "").lower() == (b.table or "").lower()


def open_sink(location: Location, *, overwrite: bool = False) -> Sink:
    if location.kind == "sql":
        from veil.tabular.sql import SqlSink

        return SqlSink(location, overwrite=overwrite)
    if location.kind == "duckdb":
        from veil.tabular.sql import DuckSink

        return DuckSink(location, overwrite=overwrite)
    return FileSink(location, overwrite=overwrite)


@contextmanager
def writing(location: Location, *, overwrite: bool = False, source: Location | None = None) -> Iterator[Sink]:
    """A sink that commits when the block ends normally and aborts (leaving the target untouched) otherwise."""
    if source is not None and same_place(source, location):
        raise InputError(f"{location}: the output is the input", hint="write to another file or table")
    sink = open_sink(location, overwrite=overwrite)
    try:
        yield sink
    except BaseException:
        sink.abort()
        raise
    sink.commit()

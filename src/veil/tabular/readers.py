"""Read a table in bounded batches: CSV and Parquet through pyarrow's streaming readers, JSON Lines a batch of
lines at a time, databases through server-side cursors.

CSV cells are read as text, exactly as written (``00123`` stays ``00123``, a phone number is not turned into a
float); Parquet, JSONL and database columns keep their types. A file that is not UTF-8 fails with the line and
byte of the first bad sequence, or is decoded with ``encoding=`` (``latin-1``, ``cp1252``, ...) into a temporary
UTF-8 copy, streamed, never loaded whole. In a SQLite column holding mixed types (numbers stored as text beside
numbers) the column is read as text and a warning names it.
"""

from __future__ import annotations

import codecs
import logging
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from veil.errors import InputError
from veil.tabular.location import Location

if TYPE_CHECKING:
    import polars as pl

log = logging.getLogger("veil.tabular")
DEFAULT_BATCH = 50_000


TABLE_DEPTH = 32


def too_deep(raw: bytes, limit: int) -> bool:
    """Whether a JSON line nests arrays and objects deeper than ``limit`` (strings skipped); cheap for most lines."""
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False
    depth, in_string, escaped = 0, False, False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            if depth > limit:
                return True
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return False


def first_ragged_row(path: Path, separator: str) -> tuple[int, int, int] | None:
    """(line, fields, header fields) of the first row whose length differs from the header's."""
    import csv

    try:
        with path.open(encoding="utf-8", errors="replace", newline="") as fh:
            reader = csv.reader(fh, delimiter=separator)
            header = next(reader, [])
            for row in reader:
                if row and len(row) != len(header):
                    return reader.line_num, len(row), len(header)
    except (OSError, csv.Error):
        return None
    return None


class TableReader:
    """One table; :meth:`batches` streams it, :meth:`head` reads the first rows for classification."""

    def __init__(self, location: Location, *, encoding: str = "utf-8") -> None:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise InputError(f"unknown text encoding '{encoding}'") from None
        self.location = location
        self.encoding = encoding
        self.warnings: list[str] = []
        self._decoded: Path | None = None
        if location.is_file and not Path(location.target).is_file():
            raise InputError(f"{location.target}: file not found")

    def head(self, n: int) -> pl.DataFrame:
        import polars as pl

        parts: list[pl.DataFrame] = []
        got = 0
        for batch in self.batches(min(n, DEFAULT_BATCH)):
            parts.append(batch.head(n - got))
            got += parts[-1].height
            if got >= n:
                break
        return pl.concat(parts, how="vertical_relaxed") if len(parts) > 1 else parts[0]

    def batches(self, batch_rows: int = DEFAULT_BATCH) -> Iterator[pl.DataFrame]:
        """At least one frame (an empty table gives one empty frame with its columns)."""
        if batch_rows < 1:
            raise InputError("batch size must be at least 1 row")
        kind = self.location.kind
        if kind == "sql":
            from veil.tabular.sql import read_sql

            yield from read_sql(self.location, batch_rows, self.warnings)
        elif kind == "duckdb":
            from veil.tabular.sql import read_duckdb

            yield from read_duckdb(self.location, batch_rows)
        else:
            yield from self._file_batches(batch_rows)

    def _file_batches(self, batch_rows: int) -> Iterator[pl.DataFrame]:
        if self.location.kind == "jsonl":
            yield from self._jsonl_batches(batch_rows)
        else:
            yield from self._arrow_batches(batch_rows)

    def _arrow_batches(self, batch_rows: int) -> Iterator[pl.DataFrame]:
        """CSV and Parquet through pyarrow's streaming readers: one block at a time, read only when asked for,
        so memory stays at a few batches whatever the file's size."""
        import polars as pl
        import pyarrow as pa

        try:
            reader = self._arrow_reader(batch_rows)
            pending: list[pl.DataFrame] = []
            size = 0
            sent = False
            for record_batch in reader:
                frame = pl.from_arrow(record_batch)
                assert isinstance(frame, pl.DataFrame)
                pending.append(frame)
                size += frame.height
                if size >= batch_rows:
                    sent = True
                    yield pl.concat(pending) if len(pending) > 1 else pending[0]
                    pending, size = [], 0
            if pending or not sent:
                schema = pl.from_arrow(reader.schema.empty_table())
                assert isinstance(schema, pl.DataFrame)
                yield pl.concat(pending) if pending else schema
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError) as exc:
            raise self._explain(exc) from None

    def _jsonl_batches(self, batch_rows: int) -> Iterator[pl.DataFrame]:
        """JSON Lines, ``batch_rows`` lines at a time (polars' own scan reads far ahead). Later batches take the
        first batch's columns and types; a key the first batch did not have is an error, never silently lost."""
        import io
        import itertools

        import polars as pl

        schema: pl.Schema | None = None
        line = 1
        with self._utf8_path().open("rb") as fh:
            while lines := list(itertools.islice(fh, batch_rows)):
                first_line, line = line, line + len(lines)
                for n, raw in enumerate(lines, first_line):
                    if too_deep(raw, TABLE_DEPTH):  # nested types this deep make polars' memory explode
                        raise InputError(f"{self.location.target}: line {n} is nested deeper than {TABLE_DEPTH} levels")
                data = b"".join(x for x in lines if x.strip())
                if not data:
                    continue
                try:
                    frame = pl.read_ndjson(io.BytesIO(data), infer_schema_length=None)
                except pl.exceptions.PolarsError as exc:  # its message may quote the data: name the kind only
                    raise InputError(
                        f"{self.location.target}: lines {first_line}-{line - 1} are not JSON Lines that make a table "
                        f"({type(exc).__name__})"
                    ) from None
                if schema is None:
                    schema = frame.schema
                else:
                    frame = self._conform(frame, schema, first_line)
                yield frame
        if schema is None:
            raise InputError(f"{self.location.target}: the file holds no JSON lines")

    def _conform(self, frame: pl.DataFrame, schema: pl.Schema, line: int) -> pl.DataFrame:
        import polars as pl

        extra = [c for c in frame.columns if c not in schema]
        if extra:
            raise InputError(
                f"{self.location.target}: from line {line}, key(s) {', '.join(extra)} that the first rows did not have",
                hint="put a row with every key first",
            )
        columns = []
        for name, dtype in schema.items():
            if name not in frame.columns:
                columns.append(pl.lit(None, dtype=dtype).alias(name))
                continue
            have = frame.schema[name]
            # Only lossless changes: "0123" must never become 123.
            if have != dtype and have != pl.Null and dtype != pl.Utf8 and not (dtype.is_float() and have.is_integer()):
                raise InputError(
                    f"{self.location.target}: from line {line}, column '{name}' holds {have} values where the first "
                    f"rows held {dtype}",
                    hint="make the column's type consistent (for example numbers stored as text everywhere)",
                )
            columns.append(pl.col(name).cast(dtype))
        return frame.select(columns)

    def _arrow_reader(self, batch_rows: int) -> Any:
        import pyarrow as pa
        import pyarrow.csv as pacsv
        import pyarrow.parquet as pq

        path = str(self._utf8_path())
        if self.location.kind == "parquet":
            return pa.RecordBatchReader.from_batches(
                pq.ParquetFile(path).schema_arrow, pq.ParquetFile(path).iter_batches(batch_size=batch_rows)
            )
        parse = pacsv.ParseOptions(
            delimiter=self.location.separator, quote_char=self.location.quote, newlines_in_values=True
        )
        read = pacsv.ReadOptions(block_size=1 << 22)
        try:
            names = pacsv.open_csv(path, read_options=read, parse_options=parse).schema.names
        except UnicodeDecodeError as exc:  # a header that is not UTF-8 (pyarrow decodes the names itself)
            raise self._explain(exc) from None
        except pa.ArrowInvalid as exc:
            if "empty" in str(exc).lower():
                raise InputError(f"{self.location.target}: the file is empty (no header row)") from None
            raise
        # Every cell as text, exactly as written; only an empty cell is null (not "NA", "NULL", ...).
        convert = pacsv.ConvertOptions(
            column_types=dict.fromkeys(names, pa.string()),
            null_values=[""],
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,
        )
        return pacsv.open_csv(path, read_options=read, parse_options=parse, convert_options=convert)

    def _utf8_path(self) -> Path:
        path = Path(self.location.target)
        if self.location.kind == "parquet" or codecs.lookup(self.encoding).name == "utf-8":
            return path
        if self._decoded is None:
            self._decoded = _transcode(path, self.encoding)
        return self._decoded

    def _explain(self, exc: Exception) -> InputError:
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        target = self.location.target
        if "utf-8" in text.lower() or "utf8" in text.lower():
            where = first_bad_utf8(Path(target))
            at = f" at line {where[0]}, byte offset {where[1]} (0x{where[2]:02X})" if where else ""
            return InputError(
                f"{target}: not UTF-8 text{at}", hint="give the file's encoding, e.g. --encoding latin-1 or cp1252"
            )
        if self.location.kind in ("csv", "tsv") and "columns, got" in text:
            ragged = first_ragged_row(Path(target), self.location.separator)
            line = f": line {ragged[0]} has {ragged[1]} fields, the header has {ragged[2]}" if ragged else ""
            return InputError(f"{target}: rows of different lengths{line}", hint="check the quoting and --sep")
        # never the data: parsers quote the offending row or value after the last colon
        text = re.sub(r"(got \d+)\s*:.*", r"\1", text)
        text = re.sub(r"(value|row|line)\s*['\"].*?['\"]", r"\1 (not shown)", text)
        return InputError(f"{target}: cannot read it as {self.location.kind.upper()}: {text}")

    def close(self) -> None:
        if self._decoded is not None:
            self._decoded.unlink(missing_ok=True)
            self._decoded = None

    def __enter__(self) -> TableReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def first_bad_utf8(path: Path, block: int = 1 << 20) -> tuple[int, int, int] | None:
    """(line, byte offset in the file, the byte) of the first invalid UTF-8 sequence, streaming the file."""
    line, base, carry = 1, 0, b""
    with path.open("rb") as fh:
        while True:
            chunk = fh.read(block)
            data = carry + chunk
            if not data:
                return None
            try:
                data.decode("utf-8")
                good, carry = data, b""
            except UnicodeDecodeError as exc:
                if chunk and exc.reason == "unexpected end of data" and exc.start >= len(data) - 3:
                    good, carry = data[: exc.start], data[exc.start :]  # a sequence cut by the block: read on
                else:
                    return line + data[: exc.start].count(b"\n"), base + exc.start, data[exc.start]
            if not chunk:
                return None
            line += good.count(b"\n")
            base += len(good)


def _transcode(path: Path, encoding: str, block: int = 1 << 20) -> Path:
    fd, tmp = tempfile.mkstemp(prefix="veil-utf8-", suffix=path.suffix)
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        with path.open("rb") as src, open(fd, "w", encoding="utf-8", newline="") as dst:
            while chunk := src.read(block):
                dst.write(decoder.decode(chunk))
            dst.write(decoder.decode(b"", final=True))
    except UnicodeDecodeError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise InputError(f"{path}: not valid {encoding}: {exc.reason}") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Path(tmp)


def as_text(values: list[Any]) -> list[str | None]:
    """Cells as text for detection: bytes decoded (undecodable bytes shown as escapes), None kept."""
    out: list[str | None] = []
    for v in values:
        if v is None:
            out.append(None)
        elif isinstance(v, bytes):
            out.append(v.decode("utf-8", "backslashreplace"))
        else:
            out.append(str(v))
    return out

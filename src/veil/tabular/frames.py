"""Whole tables in memory, for the steps that need every row at once (privacy models, DP statistics)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING

from veil.errors import InputError
from veil.tabular.location import Location, parse_location
from veil.tabular.readers import TableReader

if TYPE_CHECKING:
    import polars as pl

SEPARATORS = (",", ";", "\t", "|")


def sniff_separator(path: Path) -> str:
    """The separator of a delimited text file: the candidate seen most often on its first line."""
    try:
        with path.open(encoding="utf-8", errors="replace") as fh:
            first = fh.readline()
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from None
    counts = {sep: first.count(sep) for sep in SEPARATORS}
    best = max(counts, key=lambda s: counts[s])
    return best if counts[best] else ","


def locate(text: str, table: str | None = None, separator: str | None = None, quote: str | None = None) -> Location:
    """Parse a source; a CSV's separator is ``separator`` or sniffed from its header (ARX's files and most European
    exports use ``;``), its quote character ``quote`` (default ``"``)."""
    location = parse_location(text, table)
    if location.is_file and not Path(location.target).is_file():
        raise InputError(f"{location.target}: file not found")
    if location.kind == "csv":
        sep = separator or sniff_separator(Path(location.target))
        if len(sep) != 1 or sep in "\r\n":
            raise InputError("the delimiter must be one character (not a line break)")
        q = quote or '"'
        if len(q) != 1 or q == sep or q in "\r\n":
            raise InputError("the quote must be one character, other than the delimiter")
        location = dataclasses.replace(location, separator=sep, quote=q)
    return location


def read_frame(location: Location, *, encoding: str = "utf-8") -> pl.DataFrame:
    """Every row of a table (CSV cells as text, as written)."""
    import polars as pl

    with TableReader(location, encoding=encoding) as reader:
        parts = list(reader.batches())
    return pl.concat(parts, how="vertical_relaxed") if len(parts) > 1 else parts[0]

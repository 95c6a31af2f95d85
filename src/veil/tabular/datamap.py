"""The data map of a whole database: which table and column holds which personal data.

``scan_database`` walks every table (or the ones named), classifies each column on a sample, and returns a
:class:`DataMap` whose JSON form (``veil scan-db URL --out datamap.json``) is what governance reads later:
records of processing, data-subject requests across sources, impact reports.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from veil.detect.engine import Detector
from veil.errors import InputError
from veil.tabular.location import Location
from veil.tabular.pipeline import TableScan, scan_table
from veil.tabular.sql import list_tables


@dataclass
class DataMap:
    source: str
    scans: list[TableScan] = field(default_factory=list)
    scanned_at: str = field(default_factory=lambda: dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))

    def to_dict(self) -> dict[str, Any]:
        tables: dict[str, Any] = {}
        for scan in self.scans:
            name = scan.source.rsplit("#", 1)[-1]
            tables[name] = {
                "rows_sampled": scan.rows_sampled,
                "personal_columns": [c.name for c in scan.personal],
                "columns": {
                    c.name: {
                        "role": c.role,
                        "entities": [{"entity": e.entity, "confidence": round(e.confidence, 3)} for e in c.entities],
                        "dtype": c.dtype,
                        "reasons": c.reasons,
                    }
                    for c in scan.columns
                },
                "warnings": scan.warnings,
            }
        return {"version": 1, "source": self.source, "scanned_at": self.scanned_at, "tables": tables}


def scan_database(
    location: Location,
    detector: Detector,
    *,
    sample_rows: int = 1000,
    tables: list[str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> DataMap:
    if location.is_file:
        raise InputError(f"{location}: scan-db takes a database URL; use scan-table for a file")
    present = list_tables(location)
    if tables:
        missing = [t for t in tables if t not in present]
        if missing:
            raise InputError(f"no such table(s) in {location}: {', '.join(missing)}")
        present = [t for t in present if t in tables]
    base = Location(location.kind, location.target, None)
    data_map = DataMap(str(base))
    for name in present:
        if progress is not None:
            progress(name)
        table = Location(location.kind, location.target, name)
        data_map.scans.append(scan_table(table, detector, sample_rows=sample_rows))
    return data_map

"""The table pipeline: classify columns on a sample, plan one action per column, stream every batch through it.

``scan_table`` reads only the sample; ``anonymize_table`` classifies on the sample, then streams the whole table
batch by batch (bounded memory) into an atomic sink, and returns a :class:`RunReport` (also written to the
audit log, without any values).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from veil.anonymizer import Anonymizer
from veil.detect.columns import ColumnClassifier, ColumnProfile
from veil.errors import InputError
from veil.tabular.location import Location
from veil.tabular.plan import ColumnAction, plan_columns
from veil.tabular.readers import DEFAULT_BATCH, TableReader, as_text
from veil.tabular.writers import writing
from veil.transform.base import map_distinct

if TYPE_CHECKING:
    import polars as pl

    from veil.detect.engine import Detector


@dataclass
class TableScan:
    source: str
    rows_sampled: int
    columns: list[ColumnProfile]
    warnings: list[str] = field(default_factory=list)

    @property
    def personal(self) -> list[ColumnProfile]:
        return [c for c in self.columns if c.entities or c.role in ("free_text", "sensitive", "quasi_identifier")]

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "rows_sampled": self.rows_sampled,
            "columns": [c.to_dict() for c in self.columns],
            "warnings": self.warnings,
        }


def profile_frame(frame: pl.DataFrame, classifier: ColumnClassifier) -> list[ColumnProfile]:
    import polars as pl

    profiles = []
    for name, dtype in frame.schema.items():
        series = frame[name]
        if dtype == pl.Binary:
            values: list[str | None] = [None if v is None else "<binary>" for v in series.to_list()]
            prof = classifier.classify(name, [], str(dtype))
            prof.sampled, prof.null_share = series.len(), series.null_count() / max(1, series.len())
            prof.reasons.append("binary column: values not scanned")
            profiles.append(prof)
            continue
        values = series.to_list() if dtype == pl.Utf8 else as_text(series.to_list())
        profiles.append(classifier.classify(name, values, str(dtype)))
    return profiles


def scan_table(
    location: Location, detector: Detector, *, sample_rows: int = 1000, encoding: str = "utf-8"
) -> TableScan:
    with TableReader(location, encoding=encoding) as reader:
        sample = reader.head(sample_rows)
        profiles = profile_frame(sample, ColumnClassifier(detector))
        return TableScan(str(location), sample.height, profiles, list(reader.warnings))


@dataclass
class RunReport:
    source: str
    sink: str
    purpose: str | None
    rows_in: int = 0
    rows_out: int = 0
    seconds: float = 0.0
    actions: list[ColumnAction] = field(default_factory=list)
    profiles: list[ColumnProfile] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    guarantee: dict[str, Any] | None = None  # what the policy's release requirement found on the output
    rows_excluded: int = 0  # rows a row filter left out (subjects without consent for the purpose)

    def to_dict(self) -> dict[str, Any]:
        kinds = {a.column: a for a in self.actions}
        return {
            "source": self.source,
            "sink": self.sink,
            "purpose": self.purpose,
            "rows_in": self.rows_in,
            "rows_out": self.rows_out,
            "rows_excluded": self.rows_excluded,
            "seconds": round(self.seconds, 3),
            "rows_per_second": round(self.rows_in / self.seconds) if self.seconds else None,
            "columns": [
                {**kinds[p.name].to_dict(), "role": p.role, "classified_as": [e.entity for e in p.entities]}
                for p in self.profiles
            ],
            "dropped": [a.column for a in self.actions if a.kind == "drop"],
            "guarantee": self.guarantee,
            "warnings": self.warnings,
        }


class TablePipeline:
    """Apply a plan to frames. One per run: operators are built once; the vault comes from the anonymizer."""

    def __init__(self, anonymizer: Anonymizer, actions: list[ColumnAction], purpose: str | None) -> None:
        self.anonymizer = anonymizer
        self.actions = actions
        self.purpose = purpose
        self._ops = {a.column: a.build() for a in actions if a.kind == "operator"}

    def apply(self, frame: pl.DataFrame) -> pl.DataFrame:
        import polars as pl

        out: list[pl.Series] = []
        for action in self.actions:
            if action.column not in frame.columns:
                raise InputError(f"column '{action.column}' is missing from a later batch of the input")
            series = frame[action.column]
            if action.kind == "keep":
                out.append(series)
            elif action.kind == "operator":
                ctx = self.anonymizer.context
                out.append(self._ops[action.column].apply_series(series, action.entity or "VALUE", ctx))
            elif action.kind == "text":
                out.append(self._text(series))
        return pl.DataFrame(out) if out else pl.DataFrame()

    def _text(self, series: pl.Series) -> pl.Series:
        import polars as pl

        return map_distinct(
            series.cast(pl.Utf8),
            lambda distinct: [d.text for d in self.anonymizer.anonymize_many(distinct, self.purpose)],
        )


def anonymize_table(
    source: Location,
    sink: Location,
    anonymizer: Anonymizer,
    *,
    purpose: str | None = None,
    overwrite: bool = False,
    batch_rows: int = DEFAULT_BATCH,
    encoding: str = "utf-8",
    n_process: int = 1,
    actor: str = "cli",
    progress: Callable[[int], None] | None = None,
    row_filter: Callable[[pl.DataFrame], pl.DataFrame] | None = None,
) -> RunReport:
    """``row_filter`` takes each batch before anything is done to it and returns the rows that may be processed
    (governance's consent filter); the rows it leaves out are counted, never written."""
    policy = anonymizer.policy
    if purpose is not None:
        policy.purpose(purpose)  # an unknown purpose fails before any work
    started = time.perf_counter()
    report = RunReport(str(source), str(sink), purpose)
    with TableReader(source, encoding=encoding) as reader:
        sample = reader.head(policy.tables.sample_rows)
        report.profiles = profile_frame(sample, ColumnClassifier(anonymizer.detector))
        report.actions = plan_columns(policy, report.profiles, purpose, source.table)
        if all(a.kind == "drop" for a in report.actions):
            raise InputError(f"purpose '{purpose}' needs none of the columns of {source}: nothing to write")
        jobs = n_process or os.cpu_count() or 1
        pipeline = TablePipeline(anonymizer, report.actions, purpose)
        check = _release_check(policy, report)
        with writing(sink, overwrite=overwrite, source=source) as out:
            batches: Any = reader.batches(batch_rows)
            if row_filter is not None:
                batches = _filtered(batches, row_filter, report)
            if jobs > 1:
                from veil.tabular.workers import apply_parallel

                pairs = apply_parallel(pipeline, batches, jobs)
            else:
                pairs = ((b, pipeline.apply(b)) for b in batches)
            for batch, result in pairs:
                if check is not None:
                    check.add(result)
                out.write(result)
                report.rows_in += batch.height
                report.rows_out += result.height
                if progress is not None:
                    progress(batch.height)
            if check is not None:
                report.guarantee = check.verify()  # raises before the sink commits: nothing is released
        report.warnings = list(reader.warnings)
    report.seconds = time.perf_counter() - started
    _audit(anonymizer, report, actor)
    return report


def _filtered(
    batches: Any, row_filter: Callable[[pl.DataFrame], pl.DataFrame], report: RunReport
) -> Any:
    for batch in batches:
        kept = row_filter(batch)
        report.rows_excluded += batch.height - kept.height
        report.rows_in += batch.height - kept.height  # read, and left out
        yield kept


def _release_check(policy: Any, report: RunReport) -> Any:
    """The policy's release requirement (k, l, t on the output), if it has one."""
    requirement = policy.tables.require
    if requirement is None:
        return None
    from veil.tabular.privacy.guarantee import ReleaseCheck

    kept = {a.column for a in report.actions if a.kind != "drop"}
    classified = [p.name for p in report.profiles if p.role == "quasi_identifier" and p.name in kept]
    return ReleaseCheck.from_requirement(requirement, classified)


def _audit(anonymizer: Anonymizer, report: RunReport, actor: str) -> None:
    actions = {a.column: a.summary for a in report.actions}
    anonymizer.vault.audit.append(
        actor,
        "anonymize-table",
        scope=anonymizer.policy.scope,
        purpose=report.purpose or "",
        source=report.source,
        sink=report.sink,
        rows=report.rows_in,
        columns=actions,
    )

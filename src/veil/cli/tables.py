"""``veil scan-table``, ``veil anonymize-table`` and ``veil scan-db``."""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from veil.cli.options import DelimiterOpt, OverwriteOpt, QuoteOpt, VaultOpt, err, make_detector
from veil.detect.engine import Detector
from veil.errors import ConfigError
from veil.extras import require
from veil.textio_out import atomic_output

SCAN_FORMATS = ("table", "json", "html")
TableOpt = Annotated[str | None, typer.Option("--table", help="Table of a database source (or SOURCE#TABLE).")]
SampleOpt = Annotated[int | None, typer.Option("--sample", help="Rows sampled per table (default 1000).")]
FormatOpt = Annotated[str, typer.Option("--format", "-f", help="table, json or html.")]
OutOpt = Annotated[str | None, typer.Option("--out", "-o", help="Write the report to this file (atomically).")]
EncodingOpt = Annotated[str, typer.Option("--encoding", help="Text encoding of CSV/JSONL input (e.g. latin-1).")]
PolicyOpt = Annotated[Path | None, typer.Option("--policy", "-p", help="Policy YAML (its detection settings).")]
NerOpt = Annotated[bool | None, typer.Option("--ner/--no-ner", help="Force the NER tier on or off.")]


def _need_tabular() -> None:
    require("tabular", "polars", "pyarrow")


def _detector(policy: Path | None, ner: bool | None) -> Detector:
    if policy is not None:
        from veil.anonymizer import detector_for
        from veil.policy import load_policy

        loaded = load_policy(policy)
        if ner is not None:
            loaded.detection.ner = ner
        return detector_for(loaded)
    return make_detector(ner=ner)


def _check_format(fmt: str) -> None:
    if fmt not in SCAN_FORMATS:
        raise ConfigError(f"--format must be one of {', '.join(SCAN_FORMATS)}, not '{fmt}'")


def _emit(
    doc: dict[str, Any], html: str | None, fmt: str, out: str | None, console_print: Any, overwrite: bool
) -> None:
    if fmt == "table" and out is None:
        console_print()
        return
    if fmt == "table":
        raise ConfigError("--out needs --format json or html")
    text = html if fmt == "html" else json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
    assert text is not None
    with atomic_output(out, overwrite=overwrite) as fh:
        fh.write(text)
    if out not in (None, "-"):
        err.print(f"wrote {out}")


def _profile_table(console: Console, title: str, profiles: list[Any]) -> None:
    table = Table(title=title)
    for col in ("column", "role", "entity types (confidence)", "why", "examples"):
        table.add_column(col, overflow="fold")
    for p in profiles:
        entities = ", ".join(f"{e.entity} {e.confidence:.2f}" for e in p.entities) or "-"
        table.add_row(p.name, p.role, entities, "; ".join(p.reasons) or "-", ", ".join(p.examples))
    console.print(table)


def scan_table_cmd(
    source: Annotated[str, typer.Argument(help="A .csv/.tsv/.parquet/.jsonl file, or a database URL#TABLE.")],
    table: TableOpt = None,
    sample: SampleOpt = None,
    fmt: FormatOpt = "table",
    out: OutOpt = None,
    overwrite: OverwriteOpt = False,
    encoding: EncodingOpt = "utf-8",
    delimiter: DelimiterOpt = None,
    quote: QuoteOpt = None,
    policy: PolicyOpt = None,
    ner: NerOpt = None,
) -> None:
    """Classify every column of a table. Exit code 0: no personal data; 1: personal data found; 2: error."""
    _check_format(fmt)
    _need_tabular()
    from veil.tabular.frames import locate
    from veil.tabular.html import render_html
    from veil.tabular.pipeline import scan_table

    loc = locate(source, table, delimiter, quote)
    result = scan_table(loc, _detector(policy, ner), sample_rows=sample or 1000, encoding=encoding)
    for warning in result.warnings:
        err.print(f"warning: {warning}")
    console = Console(soft_wrap=True, highlight=False)
    title = f"{result.source}: {len(result.personal)} of {len(result.columns)} columns hold personal data " \
            f"({result.rows_sampled} rows sampled)"  # fmt: skip
    html = render_html([result]) if fmt == "html" else None
    _emit(result.to_dict(), html, fmt, out, lambda: _profile_table(console, title, result.columns), overwrite)
    raise typer.Exit(1 if result.personal else 0)


def scan_db_cmd(
    url: Annotated[str, typer.Argument(help="Database URL: sqlite:///FILE, postgresql://..., duckdb:///FILE.")],
    tables: Annotated[str | None, typer.Option("--tables", help="Only these tables, comma-separated.")] = None,
    sample: SampleOpt = None,
    fmt: FormatOpt = "table",
    out: OutOpt = None,
    overwrite: OverwriteOpt = False,
    policy: PolicyOpt = None,
    ner: NerOpt = None,
) -> None:
    """Walk every table of a database and write its data map (which table/column holds which personal data)."""
    _check_format(fmt)
    _need_tabular()
    from veil.tabular.datamap import scan_database
    from veil.tabular.html import render_html
    from veil.tabular.location import parse_location

    loc = parse_location(url, need_table=False)
    if loc.table is not None:
        tables = tables or loc.table
    wanted = [t.strip() for t in tables.split(",") if t.strip()] if tables else None
    data_map = scan_database(
        loc, _detector(policy, ner), sample_rows=sample or 1000, tables=wanted,
        progress=lambda name: err.print(f"scanning {name}") if sys.stderr.isatty() else None,
    )  # fmt: skip
    console = Console(soft_wrap=True, highlight=False)

    def show() -> None:
        if not data_map.scans:
            console.print(f"{data_map.source}: no tables")
        for scan in data_map.scans:
            _profile_table(console, f"{scan.source}: {len(scan.personal)} of {len(scan.columns)} columns "
                           f"hold personal data", scan.columns)  # fmt: skip

    html = render_html(data_map.scans, f"Veil data map: {data_map.source}") if fmt == "html" else None
    _emit(data_map.to_dict(), html, fmt, out, show, overwrite)
    raise typer.Exit(1 if any(s.personal for s in data_map.scans) else 0)


def anonymize_table_cmd(
    source: Annotated[str, typer.Argument(help="A .csv/.tsv/.parquet/.jsonl file, or a database URL#TABLE.")],
    policy: Annotated[Path, typer.Option("--policy", "-p", help="Policy YAML file.")],
    out: Annotated[str, typer.Option("--out", "-o", help="Output file or database URL#TABLE (written atomically).")],
    purpose: Annotated[str | None, typer.Option(help="Declared purpose: columns it does not need are dropped.")] = None,
    table: TableOpt = None,
    out_table: Annotated[str | None, typer.Option("--out-table", help="Table of a database output.")] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing output file or table.")] = False,
    report: Annotated[str | None, typer.Option("--report", help="Write the run report (JSON) here.")] = None,
    batch_rows: Annotated[int, typer.Option("--batch-rows", help="Rows per streamed batch.")] = 50_000,
    encoding: EncodingOpt = "utf-8",
    delimiter: DelimiterOpt = None,
    quote: QuoteOpt = None,
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="Processes for free-text columns (0 = all cores).")] = 1,
    subject_column: Annotated[
        str | None,
        typer.Option("--subject-column", help="Column naming each row's subject: rows without consent are left out."),
    ] = None,
    ner: NerOpt = None,
    vault: VaultOpt = None,
) -> None:
    """Minimize and anonymize a table by policy and purpose; prints what was done to each column."""
    _need_tabular()
    from veil.anonymizer import Anonymizer
    from veil.policy import load_policy
    from veil.tabular.frames import locate
    from veil.tabular.location import parse_location
    from veil.tabular.pipeline import anonymize_table
    from veil.vault import Vault

    loaded = load_policy(policy)
    if ner is not None:
        loaded.detection.ner = ner
    src = locate(source, table, delimiter, quote)
    dst = parse_location(out, out_table)
    if dst.kind == "csv":
        dst = dataclasses.replace(dst, separator=src.separator if src.kind == "csv" else dst.separator)
    anonymizer = Anonymizer(loaded, vault=Vault(vault) if vault else None)
    row_filter = None
    if subject_column is not None:
        from veil.governance.enforce import consent_filter

        row_filter = consent_filter(anonymizer.vault, loaded, purpose, subject_column)
    result = anonymize_table(src, dst, anonymizer, purpose=purpose, overwrite=overwrite, batch_rows=batch_rows,
                             encoding=encoding, n_process=jobs, row_filter=row_filter)  # fmt: skip
    doc = result.to_dict()
    if report is not None:
        with atomic_output(report, overwrite=overwrite) as fh:
            fh.write(json.dumps(doc, ensure_ascii=False, indent=2) + "\n")
    for warning in result.warnings:
        err.print(f"warning: {warning}")
    left = f" ({result.rows_excluded} left out: no consent, or restricted, for '{purpose}')" if subject_column else ""
    grid = Table(title=f"{result.source} -> {result.sink}: {result.rows_in} rows in, {result.rows_out} out{left}, "
                       f"{result.seconds:.1f} s")  # fmt: skip
    for col in ("column", "classified as", "action", "why"):
        grid.add_column(col, overflow="fold")
    for c in doc["columns"]:
        grid.add_row(c["column"], ", ".join(c["classified_as"]) or c["role"], c["action"], c["reason"])
    Console(stderr=True, soft_wrap=True, highlight=False).print(grid)

"""``veil scan``: find personal data in text, a file or standard input."""

from __future__ import annotations

import json
import sys
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from veil.cli.options import make_detector
from veil.errors import ConfigError, InputError
from veil.textio import mask, read_blocks
from veil.types import Finding

FORMATS = ("table", "json", "jsonl")
GROUP_BLOCKS = 32


def _line_starts(text: str) -> list[int]:
    starts = [0]
    find = text.find
    pos = find("\n")
    while pos >= 0:
        starts.append(pos + 1)
        pos = find("\n", pos + 1)
    return starts


def _records(source: str, literal: bool, detector: Any, jobs: int) -> Iterator[dict[str, Any]]:
    """One record per finding with absolute offsets and 1-based line/column."""
    if literal:
        groups: Iterator[list[tuple[int, str]]] = iter([[(0, source)]])
    else:
        groups = _grouped(read_blocks(source))
    line_base = 0
    progress = _progress(source, literal)
    for group in groups:
        results = detector.detect_many([text for _, text in group], n_process=jobs, chunk_size=4)
        for (offset, text), findings in zip(group, results, strict=True):
            starts = _line_starts(text) if findings else []
            for f in findings:
                line = bisect_right(starts, f.start)
                yield {"finding": f, "start": offset + f.start, "end": offset + f.end,
                       "line": line_base + line, "column": f.start - starts[line - 1] + 1}  # fmt: skip
            line_base += text.count("\n")
            if progress is not None:
                progress.advance(progress.task_ids[0], len(text.encode("utf-8", "surrogatepass")))
    if progress is not None:
        progress.stop()


def _grouped(blocks: Iterator[tuple[int, str]]) -> Iterator[list[tuple[int, str]]]:
    group: list[tuple[int, str]] = []
    for block in blocks:
        group.append(block)
        if len(group) == GROUP_BLOCKS:
            yield group
            group = []
    if group:
        yield group


def _progress(source: str, literal: bool) -> Any:
    if literal or source == "-" or not sys.stderr.isatty():
        return None
    size = Path(source).stat().st_size if Path(source).is_file() else 0
    if size < 1 << 20:
        return None
    from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn

    progress = Progress("scanning", BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                        console=Console(stderr=True), transient=True)  # fmt: skip
    progress.add_task("scan", total=size)
    progress.start()
    return progress


def _looks_like_path(source: str) -> bool:
    return not any(ch.isspace() for ch in source) and ("/" in source or Path(source).suffix[1:].isalpha())


def _as_dict(rec: dict[str, Any], reveal: bool) -> dict[str, Any]:
    f: Finding = rec["finding"]
    out = f.to_dict(include_value=reveal)
    out.update(start=rec["start"], end=rec["end"], line=rec["line"], column=rec["column"])
    if not reveal:
        out["masked"] = mask(f.value)
    return out


def scan(
    source: Annotated[str, typer.Argument(help="Text to scan, a file path, or - for standard input.")],
    text: Annotated[bool, typer.Option("--text", "-t", help="Treat SOURCE as the text itself.")] = False,
    fmt: Annotated[str, typer.Option("--format", "-f", help="table, json or jsonl.")] = "table",
    entities: Annotated[str | None, typer.Option("--entities", "-e", help="Only these, comma-separated.")] = None,
    threshold: Annotated[float | None, typer.Option(help="Minimum score (default 0.35).")] = None,
    recognizers: Annotated[
        Path | None, typer.Option("--recognizers", "-r", help="YAML file of custom recognizers and lists.")
    ] = None,
    ner: Annotated[bool | None, typer.Option("--ner/--no-ner", help="Force the NER tier on or off.")] = None,
    profile: Annotated[str, typer.Option(help="general, clinical (HIPAA Safe Harbor) or chat.")] = "general",
    model: Annotated[str, typer.Option(help="NER model: veil (shipped) or spacy-sm.")] = "veil",
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="Processes (0 = all cores).")] = 1,
    reveal: Annotated[bool, typer.Option(help="Print the found values unmasked.")] = False,
) -> None:
    """Find personal data. Exit code 0: none found; 1: personal data found; 2: error."""
    if fmt not in FORMATS:
        raise ConfigError(f"--format must be one of {', '.join(FORMATS)}, not '{fmt}'")
    literal = text or (source != "-" and not Path(source).exists())
    if literal and not text and _looks_like_path(source):
        raise InputError(f"{source}: file not found", hint="use --text to scan the argument itself as text")
    detector = make_detector(
        entities=entities, threshold=threshold, recognizers=recognizers, ner=ner, profile=profile, model=model
    )
    found = 0
    counts: Counter[str] = Counter()
    rows: list[dict[str, Any]] = []
    out = Console(soft_wrap=True, highlight=False)
    for rec in _records(source, literal, detector, jobs):
        found += 1
        counts[rec["finding"].entity] += 1
        if fmt == "jsonl":
            sys.stdout.write(json.dumps(_as_dict(rec, reveal), ensure_ascii=False) + "\n")
        else:
            rows.append(rec)
    if fmt == "json":
        doc = {"source": "<text>" if literal else source, "tiers": detector.tiers, "findings": found,
               "by_entity": dict(counts), "results": [_as_dict(r, reveal) for r in rows]}  # fmt: skip
        sys.stdout.write(json.dumps(doc, ensure_ascii=False, indent=2) + "\n")
    elif fmt == "table":
        _print_table(out, rows, reveal, detector.tiers, counts)
    raise typer.Exit(1 if found else 0)


def _print_table(out: Console, rows: list[dict[str, Any]], reveal: bool, tiers: str, counts: Counter[str]) -> None:
    if not rows:
        out.print(f"No personal data found (tiers: {tiers}).")
        return
    table = Table(title=f"{len(rows)} finding(s) (tiers: {tiers})", show_lines=False)
    for col in ("line:col", "entity", "value", "score", "why"):
        table.add_column(col, overflow="fold")
    for rec in rows:
        f: Finding = rec["finding"]
        value = f.value if reveal else mask(f.value)
        table.add_row(f"{rec['line']}:{rec['column']}", f.entity, value, f"{f.score:.2f}", f.explanation.summary())
    out.print(table)
    out.print("by entity: " + ", ".join(f"{k}={v}" for k, v in counts.most_common()))

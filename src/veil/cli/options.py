"""Options shared by several commands and the detector they configure."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from veil.detect import Detector
from veil.detect.custom import build_detector
from veil.detect.engine import DEFAULT_THRESHOLD
from veil.errors import ConfigError

err = Console(stderr=True, highlight=False)
DelimiterOpt = Annotated[
    str | None, typer.Option("--delimiter", "--sep", help="CSV delimiter (default: sniffed from the header).")
]
QuoteOpt = Annotated[str | None, typer.Option("--quote", help='CSV quote character (default: ").')]
OverwriteOpt = Annotated[bool, typer.Option("--overwrite", help="Replace an existing output file.")]
VaultOpt = Annotated[str | None, typer.Option("--vault", help="Vault database URL (default: VEIL_DB, .veil/veil.db).")]


def parse_entities(value: str | None) -> list[str] | None:
    if not value:
        return None
    names = [v.strip().upper() for v in value.split(",") if v.strip()]
    if not names:
        raise ConfigError("--entities is empty")
    return names


def make_detector(
    *,
    entities: str | None = None,
    threshold: float | None = None,
    recognizers: Path | None = None,
    ner: bool | None = None,
) -> Detector:
    if threshold is not None and not 0.0 <= threshold <= 1.0:
        raise ConfigError(f"--threshold {threshold} is not within 0..1")
    return build_detector(
        recognizers,
        ner="auto" if ner is None else ner,
        entities=parse_entities(entities),
        default_threshold=DEFAULT_THRESHOLD if threshold is None else threshold,
    )

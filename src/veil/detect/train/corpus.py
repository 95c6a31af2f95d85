"""The licensed labelled sets of ../shared/data the model may learn from, as (text, spans, unknown spans).

* Presidio research ``generated_large.json`` (MIT): PERSON, LOCATION/GPE, ORGANIZATION; address spans are
  marked unknown (the pattern tier finds them; a city inside one is not "no entity").
* WNUT-17 ``wnut17train.conll`` (CC BY 4.0): person, location, corporation; group, product and creative-work
  are unknown (bands, teams and titles are neither names of people nor "nothing").
* The PhysioNet notes (GPL) are never read here: they only measure.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

PRESIDIO = {"PERSON": "PERSON", "LOCATION": "GPE", "GPE": "GPE", "ORGANIZATION": "ORG"}
PRESIDIO_UNKNOWN = {"ADDRESS", "STREET_ADDRESS", "NRP", "TITLE", "PREFIX"}
WNUT = {"person": "PERSON", "location": "GPE", "corporation": "ORG"}


@dataclass(frozen=True)
class Labelled:
    text: str
    spans: tuple[tuple[int, int, str], ...]
    unknown: tuple[tuple[int, int], ...] = ()


def presidio(path: Path) -> list[Labelled]:
    out = []
    for row in json.loads(path.read_text(encoding="utf-8")):
        spans, unknown = [], []
        for s in row["spans"]:
            start, end, kind = s["start_position"], s["end_position"], s["entity_type"]
            if kind in PRESIDIO:
                spans.append((start, end, PRESIDIO[kind]))
            elif kind in PRESIDIO_UNKNOWN:
                unknown.append((start, end))
        out.append(Labelled(row["full_text"], tuple(spans), tuple(unknown)))
    return out


def conll(path: Path) -> list[Labelled]:
    out = []
    for block in re.split(r"\n\s*\n", path.read_text(encoding="utf-8")):  # train separates sentences by "\t" lines
        rows = [parts for line in block.splitlines() if len(parts := line.split("\t")) == 2 and parts[0]]
        if not rows:
            continue
        text, pos = "", 0
        spans: list[list[int | str]] = []
        for token, tag in rows:
            start = pos
            text += token + " "
            pos += len(token) + 1
            if tag.startswith("B-"):
                spans.append([start, start + len(token), tag[2:]])
            elif tag.startswith("I-") and spans and int(spans[-1][1]) == start - 1:
                spans[-1][1] = start + len(token)
        known = tuple((int(s), int(e), WNUT[str(k)]) for s, e, k in spans if k in WNUT)
        unknown = tuple((int(s), int(e)) for s, e, k in spans if k not in WNUT)
        out.append(Labelled(text.rstrip(), known, unknown))
    return out


def shared(data: Path) -> dict[str, list[Labelled]]:
    """The sets under ``data`` (../shared/data/pii-text-dev), by name."""
    return {
        "presidio generated_large": presidio(data / "generated_large.json"),
        "wnut17 train": conll(data / "wnut17" / "wnut17train.conll"),
    }

"""Loading the labelled development sets from ../shared/data (never copied into the repo)."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

DATA = Path(os.environ.get("VEIL_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
PII_DEV = DATA / "pii-text-dev"

# Gold labels of the Presidio research sets and WNUT-17, mapped to the evaluation labels. None = not scored.
GOLD_MAP: dict[str, str | None] = {
    "PERSON": "PERSON", "ADDRESS": "ADDRESS", "STREET_ADDRESS": "ADDRESS", "ZIP_CODE": "ADDRESS",
    "LOCATION": "LOCATION", "GPE": "LOCATION", "ORGANIZATION": "ORGANIZATION", "CREDIT_CARD": "CREDIT_CARD",
    "PHONE_NUMBER": "PHONE_NUMBER", "EMAIL_ADDRESS": "EMAIL_ADDRESS", "US_SSN": "US_SSN", "IBAN_CODE": "IBAN_CODE",
    "IP_ADDRESS": "IP_ADDRESS", "US_DRIVER_LICENSE": "US_DRIVER_LICENSE", "DATE_TIME": "DATE_TIME",
    "DOMAIN_NAME": "DOMAIN_NAME", "TITLE": None, "PREFIX": None, "AGE": None, "NRP": None,
    # WNUT-17
    "person": "PERSON", "location": "LOCATION", "corporation": "ORGANIZATION", "group": None, "product": None,
    "creative-work": None,
}  # fmt: skip

# What each system reports, mapped to the same evaluation labels. Anything else is not scored.
PRED_MAP: dict[str, str] = {
    "PERSON": "PERSON", "STREET_ADDRESS": "ADDRESS", "ZIP_CODE": "ADDRESS", "LOCATION": "LOCATION",
    "ORGANIZATION": "ORGANIZATION", "CREDIT_CARD": "CREDIT_CARD", "PHONE_NUMBER": "PHONE_NUMBER",
    "EMAIL_ADDRESS": "EMAIL_ADDRESS", "US_SSN": "US_SSN", "IBAN_CODE": "IBAN_CODE", "IP_ADDRESS": "IP_ADDRESS",
    "US_DRIVER_LICENSE": "US_DRIVER_LICENSE", "DATE_TIME": "DATE_TIME", "DOMAIN_NAME": "DOMAIN_NAME",
    "URL": "DOMAIN_NAME",
}  # fmt: skip


@dataclass
class Sample:
    text: str
    spans: list[tuple[int, int, str | None]]  # gold (start, end, evaluation label or None = ignored)


def presidio_set(name: str) -> list[Sample]:
    rows = json.loads((PII_DEV / name).read_text(encoding="utf-8"))
    return [
        Sample(
            r["full_text"],
            [(s["start_position"], s["end_position"], GOLD_MAP.get(s["entity_type"])) for s in r["spans"]],
        )
        for r in rows
    ]


def wnut(name: str = "emerging.dev.conll") -> list[Sample]:
    samples: list[Sample] = []
    for block in re.split(r"\n\s*\n", (PII_DEV / "wnut17" / name).read_text(encoding="utf-8")):
        tokens = [parts for line in block.splitlines() if len(parts := line.split("\t")) == 2 and parts[0]]
        if not tokens:
            continue
        text, spans, pos = "", [], 0
        current: list[int | str] | None = None
        for tok, tag in tokens:
            start = pos
            text += tok + " "
            pos += len(tok) + 1
            if tag.startswith("B-"):
                current = [start, start + len(tok), tag[2:]]
                spans.append(current)
            elif tag.startswith("I-") and current is not None:
                current[1] = start + len(tok)
            else:
                current = None
        samples.append(Sample(text.rstrip(), [(int(s[0]), int(s[1]), GOLD_MAP.get(str(s[2]))) for s in spans]))
    return samples


def join_long(texts: list[str], size: int = 1300) -> list[str]:
    """Consecutive texts joined by newlines into documents of about ``size`` characters."""
    out, cur = [], ""
    for t in texts:
        cur += t + "\n"
        if len(cur) >= size:
            out.append(cur)
            cur = ""
    return out


def short_and_long_texts() -> tuple[list[str], list[str]]:
    """Short (~70 chars) and long (~1,300 chars) texts built from the generated set."""
    texts = [s.text for s in presidio_set("generated_large.json")]
    return [t for t in texts if 40 <= len(t) <= 100], join_long(texts)


def physionet(folder: Path = PII_DEV / "physionet-deid-dev") -> list[Sample]:
    """The PhysioNet deid nursing notes (latin-1), gold spans labelled with the corpus's own PHI types."""
    raw = (folder / "id.text").read_text(encoding="latin-1")
    bodies: dict[tuple[str, str], str] = {}
    for m in re.finditer(r"START_OF_RECORD=([^|]+)\|\|\|\|([^|]+)\|\|\|\|\n(.*?)\|\|\|\|END_OF_RECORD", raw, re.S):
        bodies[(m.group(1), m.group(2))] = m.group(3)
    spans: dict[tuple[str, str], list[tuple[int, int, str | None]]] = {key: [] for key in bodies}
    for line in (folder / "id-phi.phrase").read_text(encoding="latin-1").splitlines():
        parts = line.split(" ", 5)
        if len(parts) >= 5 and (parts[0], parts[1]) in spans:
            spans[(parts[0], parts[1])].append((int(parts[2]), int(parts[3]), parts[4]))
    return [Sample(bodies[key], spans[key]) for key in bodies]

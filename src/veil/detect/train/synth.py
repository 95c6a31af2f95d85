"""Labelled synthetic text in the styles users send: prose, chat, support tickets and e-mails, clinical notes.

Templates hold slots (``{PER}``, ``{FIRST}``, ``{LOC}``, ``{ORG}``, ``{HOSP}``...) filled with Faker and the
shipped gazetteers; NER slots are labelled, the others (dates, phones, numbers) are filled but left unlabelled so
that the model leaves them to the pattern tier. Each text is then written in a case style (as is, UPPER, lower,
initials) so that case carries no label. Clinical filler sentences teach that ICU abbreviations (GI, ABG, NSR,
Foley, levo) are not names. Seeded: the same seed gives the same corpus.
"""

from __future__ import annotations

import gzip
import random
import re
from collections.abc import Iterator
from pathlib import Path

from veil.detect.train import templates as T
from veil.detect.train.corpus import Labelled

DATA = Path(__file__).resolve().parents[1] / "data"
LABEL = {"PER": "PERSON", "FIRST": "PERSON", "LAST": "PERSON", "INIT": "PERSON", "DR": "PERSON",
         "LOC": "GPE", "CITY": "GPE", "COUNTRY": "GPE", "ORG": "ORG", "HOSP": "ORG"}  # fmt: skip
SLOT = re.compile(r"\{([A-Z]+)\}")


def _load(kind: str) -> list[str]:
    with gzip.open(DATA / f"{kind}.txt.gz", "rt", encoding="utf-8") as fh:
        return [line for line in fh.read().splitlines() if line]


class Filler:
    """Values for each slot."""

    def __init__(self, rng: random.Random) -> None:
        from faker import Faker

        self.rng = rng
        self.fakers = [Faker(loc) for loc in ("en_US", "en_GB", "en_AU", "en_IN", "de_DE", "fr_FR", "es_ES")]
        for i, f in enumerate(self.fakers):
            f.seed_instance(rng.randrange(1 << 30) + i)
        self.first = _load("first_names")
        self.last = _load("last_names")
        self.cities = _load("cities")
        self.regions = _load("regions")

    def fake(self) -> object:
        return self.rng.choice(self.fakers)

    def value(self, slot: str) -> str:
        r = self.rng
        if slot == "FIRST":
            return r.choice(self.first)
        if slot == "LAST":
            return r.choice(self.last)
        if slot == "PER":
            shape = r.random()
            if shape < 0.55:
                return f"{r.choice(self.first)} {r.choice(self.last)}"
            if shape < 0.7:
                return f"{r.choice(self.first)} {r.choice('ABCDEFGHJKLMNPRSTW')}. {r.choice(self.last)}"
            return str(self.fake().name())  # type: ignore[attr-defined]
        if slot == "INIT":
            return r.choice(
                [
                    f"{r.choice(self.first)[0]}. {r.choice(self.last)}",
                    f"{r.choice(self.first)[0]}{r.choice(self.last)[0]}",
                ]
            )
        if slot == "DR":
            return r.choice(self.last)
        if slot in ("LOC", "CITY"):
            return r.choice(self.cities) if slot == "CITY" or r.random() < 0.7 else r.choice(self.regions)
        if slot == "COUNTRY":
            return r.choice(self.regions)
        if slot == "ORG":
            return str(self.fake().company())  # type: ignore[attr-defined]
        if slot == "HOSP":
            return T.hospital(r, r.choice(self.cities), r.choice(self.last))
        return T.other(r, slot, self.fake())


def _case(rng: random.Random, style: str) -> str:
    roll = rng.random()
    if style == "clinical":
        return "upper" if roll < 0.45 else "lower" if roll < 0.6 else "asis"
    if style == "chat":
        return "lower" if roll < 0.55 else "upper" if roll < 0.6 else "asis"
    return "upper" if roll < 0.2 else "lower" if roll < 0.35 else "asis"


def _styled(piece: str, case: str, rng: random.Random, labelled: bool) -> str:
    if case == "upper":
        return piece.upper()
    if case == "lower":
        return piece.lower()
    if labelled and rng.random() < 0.04:  # a name typed in lower case inside proper text
        return piece.lower()
    return piece


def render(template: str, style: str, filler: Filler) -> Labelled:
    """Fill a template and write it in one case style; offsets follow the styled text."""
    rng = filler.rng
    case = _case(rng, style)
    out: list[str] = []
    spans: list[tuple[int, int, str]] = []
    length = 0
    pos = 0
    for m in SLOT.finditer(template):
        lit = _styled(template[pos : m.start()], case, rng, False)
        out.append(lit)
        length += len(lit)
        slot = m.group(1)
        value = _styled(filler.value(slot), case, rng, slot in LABEL)
        if slot in LABEL and value.strip():
            spans.append((length, length + len(value), LABEL[slot]))
        out.append(value)
        length += len(value)
        pos = m.end()
    out.append(_styled(template[pos:], case, rng, False))
    return Labelled("".join(out), tuple(spans))


def generate(n: int, seed: int = 15) -> Iterator[Labelled]:
    """``n`` examples: a share of each style, clinical notes of several sentences with filler between."""
    rng = random.Random(seed)
    filler = Filler(rng)
    styles = [("prose", T.PROSE, 0.3), ("email", T.EMAIL, 0.2), ("chat", T.CHAT, 0.2), ("clinical", T.CLINICAL, 0.3)]
    for _ in range(n):
        style, templates, _share = rng.choices(styles, weights=[w for *_, w in styles])[0]
        if style == "clinical":
            parts = [rng.choice(templates) for _ in range(rng.randint(1, 3))]
            parts += [T.clinical_filler(rng) for _ in range(rng.randint(0, 3))]
            rng.shuffle(parts)
            template = " ".join(parts) if rng.random() < 0.5 else "\n".join(parts)
        else:
            template = rng.choice(templates)
        yield render(template, style, filler)

"""The shipped word lists: first and last names, cities and regions (built from field libraries by
``veil.detect.train.gazetteer``), common English words (spaCy's stop words and Faker's English word list) and
the clinical vocabulary of ``data/clinical_terms.txt``. Loaded once, on first use."""

from __future__ import annotations

import gzip
from functools import cache
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"


def _gz(kind: str) -> frozenset[str]:
    path = DATA / f"{kind}.txt.gz"
    if not path.is_file():
        return frozenset()
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return frozenset(line.lower() for line in fh.read().splitlines() if line)


@cache
def common_words() -> frozenset[str]:
    """Words that are far more often words than names ("will", "price", "green" are kept out of bare-name finds)."""
    from faker.providers.lorem.en_US import Provider

    words = set(Provider.word_list) | _stop_words()
    return frozenset(words)


@cache
def _stop_words() -> frozenset[str]:
    try:
        from spacy.lang.en.stop_words import STOP_WORDS
    except ImportError:  # spaCy is the ner extra; the lorem list still covers the commonest words
        return frozenset({"a", "an", "and", "the", "to", "of", "in", "on", "at", "by", "for", "with", "is", "be"})
    return frozenset(STOP_WORDS)


@cache
def clinical_terms() -> frozenset[str]:
    text = (DATA / "clinical_terms.txt").read_text(encoding="utf-8")
    return frozenset(w.lower() for line in text.splitlines() if not line.startswith("#") for w in line.split())


@cache
def first_names() -> frozenset[str]:
    return _gz("first_names") - _stop_words()


@cache
def last_names() -> frozenset[str]:
    return _gz("last_names") - _stop_words()


@cache
def places() -> frozenset[str]:
    return (_gz("cities") | _gz("regions")) - _stop_words()


def is_name(word: str) -> bool:
    w = word.lower()
    return w in first_names() or w in last_names()


def confirmed(value: str) -> bool:
    """A name or place the lists know ("KLEIN", "mary jones", "Rome"), with no common word or clinical term in it."""
    words = [w.strip(".,;:'()").lower() for w in value.split()]
    words = [w for w in words if len(w) > 1]
    if not words or any(never_a_name(w) or w in common_words() for w in words):
        return False
    return any(w in first_names() or w in last_names() or w in places() for w in words)


def never_a_name(word: str) -> bool:
    """A stop word or a clinical term: not a name whatever precedes it ("wife at bedside", "Dr. aware")."""
    w = word.lower().strip(".,;:'")
    return w in _stop_words() or w in clinical_terms()

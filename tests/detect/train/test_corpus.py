"""The training corpus (generated and read), checked without training anything."""

from __future__ import annotations

from pathlib import Path

import pytest

from veil.detect.train.corpus import conll, presidio
from veil.detect.train.synth import generate
from veil.detect.train.templates import CLINICAL, FILLER

SHARED = Path(__file__).resolve().parents[4] / "shared" / "data" / "pii-text-dev"


def test_synthetic_spans_are_the_values_and_seeded() -> None:
    first = list(generate(400, seed=3))
    assert first == list(generate(400, seed=3))
    assert first != list(generate(400, seed=4))
    for ex in first:
        for start, end, label in ex.spans:
            assert label in ("PERSON", "GPE", "ORG")
            value = ex.text[start:end]
            assert value and value == value.strip()
    styles = {"upper": 0, "lower": 0}
    for ex in first:
        letters = [c for c in ex.text if c.isalpha()]
        styles["upper"] += all(c.isupper() for c in letters)
        styles["lower"] += all(c.islower() for c in letters)
    assert styles["upper"] > 20 and styles["lower"] > 20  # case carries no label


def test_clinical_filler_holds_no_slot() -> None:
    assert all("{" not in line for line in FILLER)
    assert all("{" in line for line in CLINICAL)


@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/data not beside the repository")
def test_shared_sets_read_with_valid_offsets() -> None:
    for rows in (presidio(SHARED / "generated_small.json"), conll(SHARED / "wnut17" / "emerging.dev.conll")):
        assert rows
        for row in rows:
            for start, end, _ in row.spans:
                assert 0 <= start < end <= len(row.text)
            for start, end in row.unknown:
                assert 0 <= start < end <= len(row.text)

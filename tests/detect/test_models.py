"""The shipped NER model: its files match SHA256SUMS, a changed copy is refused, and it scores above a floor on
samples of the development sets (it is never retrained here)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from veil.detect import Detector, models
from veil.detect.ner import ner_available
from veil.errors import ModelError

pytestmark = [pytest.mark.ner, pytest.mark.skipif(not ner_available("veil"), reason="veil[ner] not installed")]
SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "pii-text-dev"


def test_shipped_model_matches_its_card() -> None:
    folder = models.SHIPPED["veil"]
    models.verify(folder)
    card = (folder / "MODEL_CARD.md").read_text(encoding="utf-8")
    assert models.digest(folder) in card
    assert sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) < 60e6


@pytest.mark.parametrize("damage", ["flip", "extra", "missing", "no_sums"])
def test_a_changed_model_is_refused(tmp_path: Path, damage: str) -> None:
    copy = tmp_path / "veil_ner"
    shutil.copytree(models.SHIPPED["veil"], copy)
    weights = copy / "ner" / "model"
    if damage == "flip":
        data = bytearray(weights.read_bytes())
        data[len(data) // 2] ^= 0xFF
        weights.write_bytes(bytes(data))
    elif damage == "extra":
        (copy / "ner" / "evil.py").write_text("import os", encoding="utf-8")
    elif damage == "missing":
        weights.unlink()
    else:
        (copy / "SHA256SUMS").unlink()
    with pytest.raises(ModelError):
        models.verify(copy)


def _f1(detector: Detector, samples: list[tuple[str, set[tuple[int, int, str]]]]) -> float:
    tp = fp = fn = 0
    for found, (_, gold) in zip(detector.detect_many([t for t, _ in samples]), samples, strict=True):
        pred = {(f.start, f.end, f.entity) for f in found if f.entity in ("PERSON", "LOCATION", "ORGANIZATION")}
        tp, fp, fn = tp + len(pred & gold), fp + len(pred - gold), fn + len(gold - pred)
    return 2 * tp / max(1, 2 * tp + fp + fn)


def _synthetic(n: int, seed: int, case: str = "as is") -> list[tuple[str, set[tuple[int, int, str]]]]:
    from veil.detect.train.synth import generate

    names = {"PERSON": "PERSON", "GPE": "LOCATION", "ORG": "ORGANIZATION"}
    out = []
    for ex in generate(n, seed=seed):
        text = {"upper": ex.text.upper(), "lower": ex.text.lower()}.get(case, ex.text)
        if len(text) == len(ex.text):
            out.append((text, {(s, e, names[lab]) for s, e, lab in ex.spans}))
    return out


@pytest.fixture(scope="module")
def detector() -> Detector:
    return Detector(ner=True, entities=["PERSON", "LOCATION", "ORGANIZATION"])


@pytest.mark.parametrize("case", ["as is", "upper", "lower"])
def test_floor_on_unseen_synthetic_text_in_every_case(detector: Detector, case: str) -> None:
    assert _f1(detector, _synthetic(300, seed=4242, case=case)) >= 0.80


@pytest.mark.skipif(not (SHARED / "wnut17").is_dir(), reason="../shared/data not beside the repository")
def test_floor_on_a_wnut_dev_sample(detector: Detector) -> None:
    from veil.detect.train.corpus import conll

    names = {"PERSON": "PERSON", "GPE": "LOCATION", "ORG": "ORGANIZATION"}
    rows = conll(SHARED / "wnut17" / "emerging.dev.conll")[:400]
    samples = [(r.text, {(s, e, names[lab]) for s, e, lab in r.spans}) for r in rows]
    assert _f1(detector, samples) >= 0.30

"""NER tier (needs veil[ner] and the offline spaCy model)."""

from __future__ import annotations

import pytest

from veil.detect import Detector
from veil.detect.ner import SpacyRecognizer, ner_available

pytestmark = [pytest.mark.ner, pytest.mark.skipif(not ner_available(), reason="veil[ner] not installed")]


@pytest.fixture(scope="module")
def detector() -> Detector:
    return Detector(ner=True)


def test_people_places_organisations(detector: Detector) -> None:
    found = detector.detect("Angela Merkel met executives of Siemens in Berlin. Mail angela@example.de.")
    pairs = {(f.entity, f.value) for f in found}
    assert ("PERSON", "Angela Merkel") in pairs
    assert ("LOCATION", "Berlin") in pairs
    assert ("ORGANIZATION", "Siemens") in pairs
    assert ("EMAIL_ADDRESS", "angela@example.de") in pairs
    person = next(f for f in found if f.entity == "PERSON")
    assert person.explanation.model == "veil" and "label=PERSON" in person.explanation.notes


def test_pii_vocabulary_is_not_an_organisation(detector: Detector) -> None:
    found = detector.detect("Enter your IBAN and SSN and NHS number here.")
    assert not [f for f in found if f.entity == "ORGANIZATION"]


def test_no_length_limit_and_offsets_across_chunks() -> None:
    rec = SpacyRecognizer(max_chunk=5000)
    text = ("The weather was fine. " * 400 + "\n") * 3 + "Barack Obama visited Chicago."
    (found,) = rec.find_many([text])
    assert {(f.entity, text[f.start : f.end]) for f in found} >= {("PERSON", "Barack Obama"), ("LOCATION", "Chicago")}


def test_parallel_equals_serial(detector: Detector) -> None:
    texts = [f"Ticket {i}: Maria Garcia from Madrid wrote to maria{i}@example.com" for i in range(300)]
    assert detector.detect_many(texts, n_process=2, chunk_size=50) == detector.detect_many(texts)


def test_missing_model_gives_the_pip_command(monkeypatch: pytest.MonkeyPatch) -> None:
    from veil.detect import models
    from veil.errors import ConfigError, MissingExtraError

    with pytest.raises(ConfigError, match="unknown NER model 'no_such_model_xyz'"):
        SpacyRecognizer(model="no_such_model_xyz")
    monkeypatch.setattr(models, "available", lambda name: False)
    with pytest.raises(MissingExtraError, match=r"pip install 'veil\[ner\]'"):
        SpacyRecognizer(model="spacy-sm")


def test_facilities_are_places_not_streets(detector: Detector) -> None:
    found = detector.detect("We met at the Golden Gate Bridge and then walked down Balsham Road.")
    assert not [f for f in found if f.value.startswith("the Golden")]
    assert "STREET_ADDRESS" not in {f.entity for f in found if f.value.startswith("Golden Gate")}


@pytest.mark.parametrize(
    "text",
    ["Angela Merkel met executives of Siemens in Berlin.", "ANGELA MERKEL MET EXECUTIVES OF SIEMENS IN BERLIN.",
     "angela merkel met executives of siemens in berlin."],
)  # fmt: skip
def test_every_case_finds_the_same_personal_data(detector: Detector, text: str) -> None:
    """Whatever the case, the person is a PERSON and the city is covered (in lower case the model may read
    "siemens in berlin" as one organisation: the type can differ, nothing is left in clear)."""
    found = detector.detect(text)
    assert ("PERSON", "angela merkel") in {(f.entity, f.value.lower()) for f in found}
    start = text.lower().index("berlin")
    assert any(f.start <= start and start + 6 <= f.end for f in found)


def test_shared_batches_give_the_same_findings_from_many_threads() -> None:
    from concurrent.futures import ThreadPoolExecutor

    texts = [f"Note {i}: Maria Garcia flew from Madrid to see Peter Smith in Boston." for i in range(40)]
    plain = SpacyRecognizer().find_many(texts)
    shared = SpacyRecognizer()
    shared.share_batches()
    with ThreadPoolExecutor(16) as pool:
        got = list(pool.map(lambda t: shared.find_many([t])[0], texts))
    assert got == plain

"""Column classification from names, values and shape."""

from __future__ import annotations

import pytest

from veil.detect import Detector
from veil.detect.columns import ColumnClassifier, name_hint, normalise


@pytest.fixture(scope="module")
def classifier(regex_detector: Detector) -> ColumnClassifier:
    return ColumnClassifier(regex_detector)


def test_names_are_normalised_and_hinted() -> None:
    assert normalise("DateOfBirth") == "date_of_birth" == normalise("date-of-birth") == normalise(" DATE OF BIRTH ")
    hint = name_hint("DateOfBirth")
    assert hint is not None and hint[:2] == ("DATE_TIME", "quasi_identifier")
    assert name_hint("customerEmail") is not None and name_hint("customerEmail")[0] == "EMAIL_ADDRESS"  # type: ignore[index]
    assert name_hint("product_price") is None


def test_values_alone_find_the_type(classifier: ColumnClassifier) -> None:
    values = [f"user{i}@example.com" for i in range(50)] + [None, ""]
    prof = classifier.classify("c7", values)
    assert prof.entity == "EMAIL_ADDRESS" and prof.role == "identifier"
    assert prof.entities[0].share == 1.0 and prof.null_share == pytest.approx(2 / 52)
    assert any("100% of 50 sampled values are EMAIL_ADDRESS" in r for r in prof.reasons)
    assert all("*" in x for x in prof.examples)  # masked


def test_name_and_values_agree_and_the_name_gives_context(classifier: ColumnClassifier) -> None:
    prof = classifier.classify("zip_code", ["94043", "10115", "02134", "73301"])
    assert prof.entity == "ZIP_CODE" and prof.role == "quasi_identifier" and prof.entities[0].confidence > 0.8
    bare = classifier.classify("c3", ["94043", "10115", "02134", "73301"])
    assert bare.entity is None and bare.role == "other"


def test_a_name_the_values_contradict_counts_half(classifier: ColumnClassifier) -> None:
    prof = classifier.classify("email", ["n/a", "unknown", "-", "none"])
    assert prof.entity == "EMAIL_ADDRESS" and prof.entities[0].confidence == pytest.approx(0.4)


def test_several_types_in_one_column(classifier: ColumnClassifier) -> None:
    values = [f"u{i}@example.com" for i in range(10)] + [f"+1 415 555 01{i:02d}" for i in range(10)]
    found = {e.entity for e in classifier.classify("contact", values).entities}
    assert found >= {"EMAIL_ADDRESS", "PHONE_NUMBER"}


def test_free_text_and_sensitive_and_ids(classifier: ColumnClassifier) -> None:
    notes = [f"Customer called about order {i}, please reply to buyer{i}@example.com before Friday." for i in range(20)]
    prof = classifier.classify("remarks", notes)
    assert prof.role == "free_text" and prof.entity == "EMAIL_ADDRESS"
    unnamed = classifier.classify("c9", notes)
    assert unnamed.role == "free_text" and any("free text" in r for r in unnamed.reasons)
    assert classifier.classify("annual_income", ["50000", "72000"]).role == "sensitive"
    ident = classifier.classify("patient_id", ["P1", "P2"])
    assert ident.role == "identifier" and ident.entity == "ID"


def test_numbers_and_empty_columns(classifier: ColumnClassifier) -> None:
    assert classifier.classify("qty", ["1", "2", "3"]).role == "other"
    empty = classifier.classify("phone", [None, None])
    assert empty.null_share == 1.0 and empty.entity == "PHONE_NUMBER" and empty.examples == []

from __future__ import annotations

import pytest

from veil.detect import AllowList, DenyList, Detector
from veil.detect.ner import chunks
from veil.detect.resolve import resolve
from veil.errors import ConfigError, InputError
from veil.types import Explanation, Finding


def _f(entity: str, start: int, end: int, score: float) -> Finding:
    return Finding(entity, start, end, score, "x" * (end - start), Explanation(recognizer="t", base_score=score))


def test_resolve_keeps_stronger_and_drops_contained() -> None:
    email = _f("EMAIL_ADDRESS", 0, 20, 1.0)
    domain = _f("DOMAIN_NAME", 5, 20, 0.4)
    assert resolve([domain, email]) == [email]


def test_resolve_merges_same_entity_overlaps() -> None:
    out = resolve([_f("STREET_ADDRESS", 0, 10, 0.5), _f("STREET_ADDRESS", 5, 15, 0.6)])
    assert [(f.start, f.end, f.score) for f in out] == [(0, 15, 0.6)]


def test_resolve_sorted_and_disjoint() -> None:
    out = resolve([_f("A", 10, 12, 0.5), _f("B", 0, 3, 0.5), _f("C", 2, 11, 0.4)])
    assert [(f.entity, f.start) for f in out] == [("B", 0), ("A", 10)]


@pytest.mark.parametrize(
    ("text", "entity", "wrong"),
    [
        ("mail john.smith@example.com now", "EMAIL_ADDRESS", {"URL", "DOMAIN_NAME"}),
        ("IBAN GB82 WEST 1234 5698 7654 32", "IBAN_CODE", {"UK_NHS", "US_DRIVER_LICENSE", "PHONE_NUMBER"}),
        ("card 4111-1111-1111-1111", "CREDIT_CARD", {"DATE_TIME", "PHONE_NUMBER"}),
        ("Springfield, IL 62704", "ZIP_CODE", {"DATE_TIME"}),
    ],
)
def test_presidio_false_positives_do_not_happen(
    regex_detector: Detector, text: str, entity: str, wrong: set[str]
) -> None:
    entities = {f.entity for f in regex_detector.detect(text)}
    assert entity in entities
    assert not entities & wrong


def test_relative_dates_are_not_pii(regex_detector: Detector) -> None:
    assert regex_detector.detect("see you next week, or tomorrow, or in 3 days") == []


def test_context_words_are_whole_words(regex_detector: Detector) -> None:
    # "discard" contains "card" but is not the word card; an unformatted Luhn number needs real context.
    assert regex_detector.detect("discard 123456789")[0:0] == []
    plain = "536221234"
    assert [f.value for f in regex_detector.detect(f"social security {plain}")] == [plain]
    assert regex_detector.detect(f"insecurity {plain}") == []


def test_explanations_name_the_evidence(regex_detector: Detector) -> None:
    (f,) = regex_detector.detect("credit card 4111 1111 1111 1111")
    assert f.explanation.recognizer == "credit_card"
    assert f.explanation.pattern == "card_grouped"
    assert f.explanation.validator == "credit_card" and f.explanation.validation == "passed"
    assert "credit" in f.explanation.context and "card" in f.explanation.context
    assert f.score == 1.0


def test_thresholds_and_entity_filter() -> None:
    d = Detector(ner=False, thresholds={"DOMAIN_NAME": 0.9}, entities=["DOMAIN_NAME", "EMAIL_ADDRESS"])
    found = d.detect("visit veil-example.org or mail a@veil-example.org, card 4111 1111 1111 1111")
    assert [f.entity for f in found] == ["EMAIL_ADDRESS"]


def test_allow_and_deny_lists() -> None:
    d = Detector(ner=False, allow=["support@veil.example"], deny={"PERSON": ["Jane Roe"], "PROJECT": ["Bluebird"]})
    found = d.detect("Ask jane roe (support@veil.example) about project bluebird, not bluebirds.")
    assert [(f.entity, f.value) for f in found] == [("PERSON", "jane roe"), ("PROJECT", "bluebird")]
    assert found[0].explanation.recognizer == "deny_list"


def test_allow_list_patterns() -> None:
    allow = AllowList(patterns=[r".*@example\.com"])
    d = Detector(ner=False, allow=allow)
    assert d.detect("a@example.com") == []


def test_bad_configuration_is_refused() -> None:
    with pytest.raises(ConfigError, match="threshold"):
        Detector(ner=False, thresholds={"PERSON": 2.0})
    with pytest.raises(ConfigError, match="UPPER_SNAKE"):
        DenyList({"person": ["x"]})
    with pytest.raises(ConfigError, match="allow list pattern"):
        AllowList(patterns=["("])
    with pytest.raises(InputError, match="not str"):
        Detector(ner=False).detect_many(["ok", b"bytes"])  # type: ignore[list-item]


def test_detect_many_matches_detect_and_parallel(regex_detector: Detector) -> None:
    texts = [f"user{i}@example.com called +44 20 7946 0958 #{i}" for i in range(1200)]
    serial = regex_detector.detect_many(texts)
    parallel = regex_detector.detect_many(texts, n_process=2, chunk_size=100)
    assert serial == parallel
    assert serial[7] == regex_detector.detect(texts[7])
    assert all(len(r) == 2 for r in serial)


def test_very_long_text(regex_detector: Detector) -> None:
    filler = "lorem ipsum dolor sit amet " * 80_000  # 2.1 M characters, beyond spaCy's 1 M limit
    text = filler + "mail a@veil-example.org " + filler
    found = regex_detector.detect(text)
    assert [(f.entity, text[f.start : f.end]) for f in found] == [("EMAIL_ADDRESS", "a@veil-example.org")]


def test_chunks_cover_text_exactly() -> None:
    text = ("word " * 50 + "\n") * 200
    pieces = list(chunks(text, 1000))
    assert "".join(p for _, p in pieces) == text
    assert all(len(p) <= 1000 for _, p in pieces)
    assert all(text[off : off + len(p)] == p for off, p in pieces)


def test_prefilter_off_gives_the_same_results(regex_detector: Detector) -> None:
    from pathlib import Path

    text = Path(__file__).read_text(encoding="utf-8")
    assert Detector(ner=False, prefilter=False).detect(text) == regex_detector.detect(text)


def test_every_mention_of_a_detected_value_is_reported(regex_detector: Detector) -> None:
    text = "call +44 20 7946 0958 or IBAN GB82 WEST 1234 5698 7654 32+44 20 7946 0958 again"
    phones = [f.start for f in regex_detector.detect(text) if f.entity == "PHONE_NUMBER"]
    assert len(phones) == 2  # the second one is glued to the IBAN and found as a mention of the first
    # a value inside a longer word or number is not a mention
    found = regex_detector.detect("card 4111 1111 1111 1111 and 94111 1111 1111 11112")
    assert [(f.entity, f.start) for f in found] == [("CREDIT_CARD", 5)]

"""Properties: no crash on arbitrary Unicode, offsets always valid, prefilter never changes results."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from veil.detect import Detector

_PLAIN = Detector(ner=False, prefilter=False)

FRAGMENTS = st.sampled_from([
    "4111 1111 1111 1111", "john@example.com", "+44 20 7946 0958", "GB82 WEST 1234 5698 7654 32",
    "536-22-1234", "192.168.0.1", "2001:db8::1", "https://x.example.org/a", "12/03/1985", "221B Baker Street",
    "CA 94043", "AKIAIOSFODNN7EXAMPLE", "ssn", "card", "zip", "passport", " ", "\n", "-", ".", "@", ":", "é", "İ",
    "\U0001f600", "\u200b", "０１２３", "４１１１ 1111 1111 1111", "Hauptstraße 5", "ſſn", "\u00a0", "K", "٣",
    "Dr. Okafor", "wife mary", "7/22", "'08", "92 yo", "MRN 1234567", "pager 42133", "from VAMC", "@jane",
])  # fmt: skip
_CLINICAL = Detector(ner=False, profile="clinical")
_CLINICAL_PLAIN = Detector(ner=False, profile="clinical", prefilter=False)
TEXTS = st.one_of(st.text(max_size=300), st.lists(st.one_of(FRAGMENTS, st.text(max_size=5)), max_size=30).map("".join))


def _check(text: str, findings: list) -> None:  # type: ignore[type-arg]
    last_end = 0
    for f in findings:
        assert 0 <= f.start < f.end <= len(text)
        assert text[f.start : f.end] == f.value
        assert f.start >= last_end
        assert 0.0 <= f.score <= 1.0
        last_end = f.end


@settings(
    max_examples=int(os.environ.get("VEIL_PROPERTY_EXAMPLES", "300")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(text=TEXTS)
def test_offsets_valid_and_prefilter_exact(regex_detector: Detector, text: str) -> None:
    findings = regex_detector.detect(text)
    _check(text, findings)
    assert findings == _PLAIN.detect(text)


@settings(
    max_examples=int(os.environ.get("VEIL_PROPERTY_EXAMPLES", "300")),
    deadline=None,
)
@given(text=TEXTS)
def test_clinical_profile_offsets_valid_and_prefilter_exact(text: str) -> None:
    findings = _CLINICAL.detect(text)
    _check(text, findings)
    assert findings == _CLINICAL_PLAIN.detect(text)


def test_lone_surrogates_do_not_crash(regex_detector: Detector) -> None:
    text = "mail a@example.com \ud800 card 4111 1111 1111 1111"
    found = regex_detector.detect(text)
    _check(text, found)
    assert {f.entity for f in found} == {"EMAIL_ADDRESS", "CREDIT_CARD"}

from __future__ import annotations

import pytest

from veil.detect import Detector
from veil.detect.address import complete_addresses
from veil.types import Explanation, Finding


@pytest.mark.parametrize(
    ("text", "value"),
    [
        (
            "Ship to 1600 Amphitheatre Parkway, Mountain View, CA 94043 now",
            "1600 Amphitheatre Parkway, Mountain View, CA 94043",
        ),
        ("Schicken an Hauptstraße 5, 10115 Berlin. Danke", "Hauptstraße 5, 10115 Berlin"),
        ("Via Roma 10, Milano. Grazie", "Via Roma 10, Milano"),
        ("I live at ul. Marszałkowska 12\nWarszawa\n00-001\n\nThanks", "ul. Marszałkowska 12\nWarszawa\n00-001"),
        ("12 Main Street Apt. 4B, Springfield. See you", "12 Main Street Apt. 4B, Springfield"),
        ("12 Main Street. Thanks John", "12 Main Street"),  # sentence punctuation ends the block
        ("12 Main Street thanks to you", "12 Main Street"),  # lower-case words are not place names
    ],
)
def test_address_blocks(regex_detector: Detector, text: str, value: str) -> None:
    found = [f.value for f in regex_detector.detect(text) if f.entity == "STREET_ADDRESS"]
    assert found == [value]


def test_completion_stops_at_a_location_finding() -> None:
    text = "12 Main Street, Springfield, IL 62704"
    expl = Explanation(recognizer="t", base_score=0.5)
    street = Finding("STREET_ADDRESS", 0, 14, 0.5, text[0:14], expl)
    city = Finding("LOCATION", 16, 27, 0.8, "Springfield", expl)
    out = complete_addresses(text, [street, city])
    assert [(f.entity, f.value) for f in out] == [("STREET_ADDRESS", "12 Main Street"), ("LOCATION", "Springfield")]


def test_ordinary_words_are_not_street_suffixes(regex_detector: Detector) -> None:
    for text in ("row 1 nothing here\nrow 2", "at 2 we row home", "Windows 10 is out", "walked 3 blocks down the road"):
        assert not [f for f in regex_detector.detect(text) if f.entity == "STREET_ADDRESS"], text

"""Detection profiles: the clinical profile's identifiers and what it leaves; chat handles; bad names."""

from __future__ import annotations

import pytest

from veil.detect import Detector
from veil.detect.profiles import PROFILES, SAFE_HARBOR
from veil.errors import ConfigError
from veil.policy import Policy


@pytest.fixture(scope="module")
def clinical() -> Detector:
    return Detector(ner=False, profile="clinical")


@pytest.mark.parametrize(
    ("text", "entity", "value"),
    [
        ("Seen by Dr. Okafor this AM", "PERSON", "Okafor"),
        ("MD KLEIN AWARE OF BP", "PERSON", "KLEIN"),
        ("wife mary called at 10", "PERSON", "mary"),
        ("report given to Anne RN", "PERSON", "Anne"),
        ("mrs. Burns con't to be sedated", "PERSON", "Burns"),
        ("PMH: CAD WITH NQWMI 5/13, HTN", "DATE_TIME", "5/13"),
        ("3-12-99 B: neuro intact", "DATE_TIME", "3-12-99"),
        ("S/P CABG 1957, HTN", "DATE_TIME", "1957"),
        ("mi in '08, endometrial ca", "DATE_TIME", "'08"),
        ("PT IS A 92 YO MAN", "AGE", "92"),
        ("MRN: 4417723", "MEDICAL_RECORD_NUMBER", "4417723"),
        ("pager 42133 if needed", "PHONE_NUMBER", "42133"),
        ("TRANSFERRED FROM VAMC FOR CATH", "LOCATION", "VAMC"),
        ("had TURP at reisterstown hospital", "LOCATION", "reisterstown hospital"),
        ("to go to eastwick 6 tomorrow", "LOCATION", "eastwick 6"),
        ("HERMAN W. EMPERATRICE, RRT", "PERSON", "HERMAN W. EMPERATRICE"),
        ("all is well. s. roberto rrt", "PERSON", "s. roberto"),
        ("HO Falco notified", "PERSON", "Falco"),
        ("his wife, Carol Buckley (home) called", "PERSON", "Carol Buckley"),
        ("lives in Pikesville with wife", "LOCATION", "Pikesville"),
        ("RETURNED FROM ROME LAST WEEK", "LOCATION", "ROME"),
        ("daughter returned to new haven today", "LOCATION", "new haven"),
        ("went to Harbor Hosp 8/23", "LOCATION", "Harbor Hosp"),
        ("FROM UNIVERSITY OF MD MEDICAL CENTER.", "LOCATION", "UNIVERSITY OF MD MEDICAL CENTER"),
        ("right arm fx 5/97, left hip", "DATE_TIME", "5/97"),
        ("Pager: #12345", "PHONE_NUMBER", "12345"),
    ],
)
def test_clinical_identifiers(clinical: Detector, text: str, entity: str, value: str) -> None:
    assert (entity, value) in [(f.entity, f.value) for f in clinical.detect(text)]


@pytest.mark.parametrize(
    "text",
    [
        "wife at bedside, updated",
        "Dr. aware of K 3.1",
        "motor 5/5 strength, 1/2 NS",
        "pt turned at 2000 and 0400",
        "74 YO WOMAN TRANSFERRED",  # younger ages may stay under Safe Harbor
        "transferred from OSH",  # "outside hospital"
        "on levo 5 mcg",
        "S. aureus in sputum, E. coli in urine",
        "pt in good spirits, back to the floor, to ER for CAT SCAN",
        "pt in no distress, back from normal saline trial, oral care given",
        "daughter called for update",
        "given 10u reg SQ now",  # a dose, not "10 ... Square"
        "pco2 37, ph 7.42. Dr aware",
        "RUE DVT- WAS THERAPEUTIC ON 600U",  # right upper extremity, not "rue ..."
    ],
)
def test_clinical_leaves_the_clinical_words(clinical: Detector, text: str) -> None:
    assert clinical.detect(text) == []


def test_clinical_keeps_title_case_streets(clinical: Detector) -> None:
    found = clinical.detect("lives at 12 Main St with wife")
    assert ("STREET_ADDRESS", "12 Main St") in [(f.entity, f.value) for f in found]


def test_general_profile_keeps_month_day_out() -> None:
    assert Detector(ner=False).detect("pain 5/13 today") == []


def test_chat_handles() -> None:
    found = Detector(ner=False, profile="chat").detect("thx @jane_doe! mail me at jane@example.com")
    assert ("USERNAME", "@jane_doe") in [(f.entity, f.value) for f in found]
    assert "USERNAME" not in {f.entity for f in found if "example.com" in f.value}


def test_every_safe_harbor_identifier_is_documented() -> None:
    assert len(SAFE_HARBOR) == 18 and set(PROFILES) == {"general", "clinical", "chat"}


def test_bad_names_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="unknown detection profile 'hipaa'"):
        Detector(ner=False, profile="hipaa")
    with pytest.raises(ConfigError, match="unknown NER model 'gpt'"):
        Detector(ner=False, model="gpt")


def test_policy_names_the_profile() -> None:
    policy = Policy.model_validate({"detection": {"profile": "clinical", "ner": False}})
    from veil.anonymizer import detector_for

    assert detector_for(policy).profile.name == "clinical"
    with pytest.raises(ValueError, match="profile"):
        Policy.model_validate({"detection": {"profile": "medical"}})

"""Detection profiles: what changes for the kind of text a policy handles (``detection.profile``).

* ``general`` (default): prose, tickets, documents; the built-in recognizers and the NER model.
* ``clinical``: clinical notes and HIPAA Safe Harbor's 18 identifiers. Adds names by title and role ("Dr.
  Jones", "wife mary", confirmed by the name gazetteer), dates without a year (7/22, 3-12-99, '09), years
  alone, ages over 89, pager numbers and extensions, medical record numbers, hospitals (GH, "St. Mary's
  Hospital"); NER names and places that are clinical terms (GI, ABG, Foley, NSR) are dropped.
* ``chat``: messages and social posts: lower-case names keep the model's full score, and @handles are
  reported as USERNAME.

Each identifier of Safe Harbor and what finds it under the clinical profile is listed in ``SAFE_HARBOR``.
"""

from __future__ import annotations

from dataclasses import dataclass

from veil.detect.builtin import clinical
from veil.detect.recognizer import Pattern, PatternRecognizer
from veil.errors import ConfigError


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    recognizers: tuple[PatternRecognizer, ...] = ()
    drop_clinical_terms: bool = False
    lower_case_names: bool = False  # lower-case PERSON finds keep the model's score


HANDLE = PatternRecognizer(
    name="handle",
    entity="USERNAME",
    patterns=(Pattern("at_handle", r"(?<![\w@.])@([A-Za-z0-9_]{2,30})\b(?!\.\w)", 0.6, group=0),),
    description="@handles of chat and social media (not e-mail addresses)",
)

PROFILES: dict[str, Profile] = {
    "general": Profile("general", "prose, tickets, documents"),
    "clinical": Profile(
        "clinical",
        "clinical notes; HIPAA Safe Harbor's identifiers",
        recognizers=clinical.RECOGNIZERS,
        drop_clinical_terms=True,
    ),
    "chat": Profile("chat", "chat messages and social posts", recognizers=(HANDLE,), lower_case_names=True),
}

SAFE_HARBOR: dict[str, str] = {
    "names": "PERSON: NER model; clinician_name, relative_name (title/role + gazetteer)",
    "geographic subdivisions smaller than a state": "STREET_ADDRESS, ZIP_CODE, LOCATION (NER, hospital)",
    "dates (except year) and ages over 89": "DATE_TIME (date, month_day, year_alone), AGE (age_over_89)",
    "telephone numbers": "PHONE_NUMBER (phone, pager_extension)",
    "fax numbers": "PHONE_NUMBER",
    "e-mail addresses": "EMAIL_ADDRESS",
    "social security numbers": "US_SSN",
    "medical record numbers": "MEDICAL_RECORD_NUMBER",
    "health plan beneficiary numbers": "MEDICAL_RECORD_NUMBER (account/unit numbers named as such)",
    "account numbers": "MEDICAL_RECORD_NUMBER, IBAN_CODE, CREDIT_CARD",
    "certificate/license numbers": "US_DRIVER_LICENSE, US_PASSPORT",
    "vehicle identifiers and serial numbers": "not covered by a built-in recognizer: add a custom recognizer",
    "device identifiers and serial numbers": "MAC_ADDRESS; others by a custom recognizer",
    "web URLs": "URL, DOMAIN_NAME",
    "IP addresses": "IP_ADDRESS",
    "biometric identifiers": "not text: out of scope of the text detector",
    "full-face photographs": "not text: out of scope of the text detector",
    "any other unique identifying number, characteristic, or code": "custom recognizers (detection.recognizers)",
}


def get_profile(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        raise ConfigError(f"unknown detection profile '{name}'", hint=f"profiles: {', '.join(PROFILES)}") from None

"""Veil's entity types and column roles named in the fideslang taxonomy, and which categories are special.

The data map says what a column holds in Veil's words (EMAIL_ADDRESS, a ``sensitive`` column named diagnosis);
records of processing, impact assessments and breach reports speak fideslang (``user.contact.email``,
``user.health_and_medical``). Art. 9 special categories and Art. 10 criminal data raise the risk scores and make
a breach notifiable to the subjects.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

ENTITY_CATEGORY = {
    "EMAIL_ADDRESS": "user.contact.email",
    "PHONE_NUMBER": "user.contact.phone_number",
    "PERSON": "user.name",
    "STREET_ADDRESS": "user.contact.address.street",
    "ZIP_CODE": "user.contact.address.postal_code",
    "LOCATION": "user.location.imprecise",
    "GPS": "user.location.precise",
    "DATE_TIME": "user.demographic.date_of_birth",
    "AGE": "user.demographic.age_range",
    "GENDER": "user.demographic.gender",
    "NRP": "user.demographic.race_ethnicity",
    "CREDIT_CARD": "user.financial.credit_card",
    "IBAN_CODE": "user.financial.bank_account",
    "US_BANK_NUMBER": "user.financial.bank_account",
    "CRYPTO": "user.financial",
    "US_SSN": "user.government_id.national_identification_number",
    "US_ITIN": "user.government_id.national_identification_number",
    "UK_NINO": "user.government_id.national_identification_number",
    "IN_AADHAAR": "user.government_id.national_identification_number",
    "IN_PAN": "user.government_id.national_identification_number",
    "US_PASSPORT": "user.government_id.passport_number",
    "US_DRIVER_LICENSE": "user.government_id.drivers_license_number",
    "UK_NHS": "user.health_and_medical.record_id",
    "MEDICAL_RECORD_NUMBER": "user.health_and_medical.record_id",
    "IP_ADDRESS": "user.device.ip_address",
    "MAC_ADDRESS": "user.device.device_id",
    "URL": "user.contact.url",
    "ID": "user.unique_id",
    "PASSWORD": "user.authorization.password",
    "API_KEY": "user.authorization.credentials",
    "PRIVATE_KEY": "user.authorization.credentials",
    "JWT": "user.authorization.credentials",
}
# Sensitive columns have a role, not an entity: their names say which special category they are.
_SENSITIVE_NAMES = [
    (r"diagnos|disease|condition|medication|treatment|health|disabilit|icd|symptom", "user.health_and_medical"),
    (r"genetic|dna|genome", "user.health_and_medical.genetic"),
    (r"religio|faith", "user.demographic.religious_belief"),
    (r"sexual|orientation", "user.demographic.sexual_orientation"),
    (r"politic|party", "user.demographic.political_opinion"),
    (r"race|ethnic", "user.demographic.race_ethnicity"),
    (r"criminal|conviction|offen", "user.criminal_history"),
    (r"biometric|fingerprint|retina|face", "user.biometric"),
    (r"salary|income|wage|credit_score", "user.financial"),
]
SPECIAL = (
    "user.health_and_medical",
    "user.biometric",
    "user.demographic.race_ethnicity",
    "user.demographic.religious_belief",
    "user.demographic.sexual_orientation",
    "user.demographic.political_opinion",
    "user.criminal_history",
    "user.childrens",
)
HIGH_RISK = (*SPECIAL, "user.financial", "user.government_id", "user.authorization")


def column_categories(name: str, role: str, entities: Iterable[str]) -> list[str]:
    """fideslang categories of one data-map column."""
    out = [ENTITY_CATEGORY[e] for e in entities if e in ENTITY_CATEGORY and e != "DATE_TIME"]
    if "DATE_TIME" in entities and re.search(r"birth|dob", name.lower()):
        out.append(ENTITY_CATEGORY["DATE_TIME"])  # a date is a category only when it is someone's birth date
    if role == "sensitive":
        low = name.lower()
        out += [cat for pattern, cat in _SENSITIVE_NAMES if re.search(pattern, low)] or ["user"]
    if role == "free_text":
        out.append("user.content.private")  # free text is the person's own words, whatever else is found in it
    return sorted(set(out))


def is_special(category: str) -> bool:
    return any(category == s or category.startswith(s + ".") for s in SPECIAL)


def is_high_risk(category: str) -> bool:
    return any(category == s or category.startswith(s + ".") for s in HIGH_RISK)


def datamap_categories(data_map: dict[str, object]) -> dict[str, list[str]]:
    """``table.column`` -> categories, for every personal column of a data map (``DataMap.to_dict`` form)."""
    out: dict[str, list[str]] = {}
    tables = data_map.get("tables", {})
    assert isinstance(tables, dict)
    for tname, tmap in tables.items():
        for cname, cmap in tmap.get("columns", {}).items():
            ents = [e["entity"] for e in cmap.get("entities", [])]
            cats = column_categories(cname, str(cmap.get("role", "other")), ents)
            if cats and (ents or cmap.get("role") in ("sensitive", "free_text", "quasi_identifier", "identifier")):
                out[f"{tname}.{cname}"] = cats
    return out

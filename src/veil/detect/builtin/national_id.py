"""Government identifiers: US SSN/ITIN/passport/driver licence, UK NINO/NHS, India Aadhaar/PAN."""

from __future__ import annotations

from veil.detect.recognizer import Pattern, PatternRecognizer

US_SSN = PatternRecognizer(
    name="us_ssn",
    entity="US_SSN",
    patterns=(
        Pattern("ssn_separated", r"(?<![\w\-.])\d{3}([- .])\d{2}\1\d{4}(?![\w\-]|\.\d)", 0.5),
        Pattern("ssn_plain", r"(?<![\w\-.])\d{9}(?![\w\-]|\.\d)", 0.05),
    ),
    validator="us_ssn",
    validated_score=0.0,  # the checks only filter; an unformatted number still needs context
    context=("ssn", "ssns", "social security", "social", "security", "ss#", "ssid", "tin", "taxpayer"),
    description="Area/group/serial rules of the SSA; unformatted numbers count only with context.",
)

US_ITIN = PatternRecognizer(
    name="us_itin",
    entity="US_ITIN",
    patterns=(
        Pattern("itin_separated", r"(?<![\w\-])9\d{2}([- ])\d{2}\1\d{4}(?![\w\-])", 0.5),
        Pattern("itin_plain", r"(?<![\w\-])9\d{8}(?![\w\-])", 0.1),
    ),
    validator="us_itin",
    validated_score=0.0,
    context=("itin", "taxpayer", "tax", "individual taxpayer", "irs"),
    description="IRS individual taxpayer number: 9XX, group 50-65/70-88/90-92/94-99.",
)

US_PASSPORT = PatternRecognizer(
    name="us_passport",
    entity="US_PASSPORT",
    patterns=(Pattern("passport", r"(?<![\w\-])(?:[A-Z]\d{8}|\d{9})(?![\w\-])", 0.1),),
    validator="not_repeated",
    context=("passport", "passport number", "travel document", "passport no"),
    context_required=True,
    description="9 digits, or a letter and 8 digits (next generation); only near the word passport.",
)

US_DRIVER_LICENSE = PatternRecognizer(
    name="us_driver_license",
    entity="US_DRIVER_LICENSE",
    patterns=(
        Pattern(
            "driver_license",
            r"(?<![\w\-])(?:[A-Z]\d{3,14}|[A-Z]{2}\d{2,6}[A-Z]?|\d{7,12}|[A-Z]\d{2}-\d{3}-\d{2}-\d{3}-\d"
            r"|[A-Z]{1,2}-\d{3}-\d{3}-\d{3}|\d{3}-\d{2}-\d{4}|[A-Z]\d{3}-\d{4}-\d{4}(?:-\d{2})?)(?![\w\-])",
            0.1,
        ),
    ),
    validator="not_repeated",
    context=("driver", "drivers", "driver's", "license", "licence", "dl", "dln", "driving", "permit"),
    context_required=True,
    description="State formats; only near driver/licence words because the formats are weak.",
)

UK_NINO = PatternRecognizer(
    name="uk_nino",
    entity="UK_NINO",
    patterns=(
        Pattern(
            "nino",
            r"(?<![\w])(?!BG|GB|NK|KN|TN|NT|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]"
            r"(?: ?\d{2}){3} ?[A-D](?![\w])",
            0.5,
            flags=("IGNORECASE",),  # lower-case numbers are the same number; prefixes and suffix still checked
        ),
    ),
    context=("national insurance", "nino", "ni number", "ni no", "insurance"),
    description="HMRC National Insurance number (valid prefixes and suffix).",
)

UK_NHS = PatternRecognizer(
    name="uk_nhs",
    entity="UK_NHS",
    patterns=(Pattern("nhs", r"(?<![\w\-.])\d{3}([ \-]?)\d{3}\1\d{4}(?![\w\-]|\.\d)", 0.1),),
    validator="nhs",
    validated_score=0.4,
    context=("nhs", "health service", "national health", "patient", "health"),
    description="10 digits with the NHS modulus-11 check digit.",
)

IN_AADHAAR = PatternRecognizer(
    name="in_aadhaar",
    entity="IN_AADHAAR",
    patterns=(Pattern("aadhaar", r"(?<![\w\-.])[2-9]\d{3}([ \-]?)\d{4}\1\d{4}(?![\w\-]|\.\d)", 0.1),),
    validator="aadhaar",
    validated_score=0.4,
    context=("aadhaar", "aadhar", "uidai", "uid", "adhaar"),
    description="12 digits, not starting with 0/1, with the Verhoeff check digit.",
)

IN_PAN = PatternRecognizer(
    name="in_pan",
    entity="IN_PAN",
    patterns=(Pattern("pan", r"(?<![\w])[A-Z]{3}[ABCFGHJLPT][A-Z]\d{4}[A-Z](?![\w])", 0.5),),
    validator="not_repeated",
    context=("pan", "permanent account number", "income tax", "pan card"),
    description="Indian Permanent Account Number: 5 letters (4th = holder type), 4 digits, 1 letter.",
)

RECOGNIZERS = (US_SSN, US_ITIN, US_PASSPORT, US_DRIVER_LICENSE, UK_NINO, UK_NHS, IN_AADHAAR, IN_PAN)

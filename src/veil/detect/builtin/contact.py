"""E-mail addresses and phone numbers."""

from __future__ import annotations

from veil.detect.recognizer import Pattern, PatternRecognizer

EMAIL = PatternRecognizer(
    name="email",
    entity="EMAIL_ADDRESS",
    patterns=(
        Pattern(
            "email",
            r"(?<![\w.%+\-:/])[A-Za-z0-9_%+-][A-Za-z0-9._%+-]{0,63}@"
            r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.){1,8}[A-Za-z]{2,24}(?![\w-])",
            0.5,
        ),
    ),
    validator="email",
    validated_score=1.0,
    context=("email", "e-mail", "mail", "contact", "address"),
    description="RFC 5322 style address with a syntactically valid domain.",
)

PHONE = PatternRecognizer(
    name="phone",
    entity="PHONE_NUMBER",
    patterns=(
        Pattern(
            "phone_international",
            r"(?<![\w+])(?:\+|00)[1-9]\d{0,2}[ .\-]?(?:\(0?\d{1,5}\)[ .\-]?)?\d{1,5}(?:[ .\-]?\d{1,5}){1,5}"
            r"(?:[ ]?(?:x|ext\.?|extension)[ ]?\d{1,6})?(?![\w.\-]?\d)",
            0.4,
        ),
        Pattern(
            "phone_national",
            r"(?<![\w+.\-/])(?<!\d:)(?:1[ .\-])?(?:\(\d{2,5}\)[ .\-]?|\d{2,5}[ .\-/])\d{2,8}(?:[ .\-]\d{2,5}){0,3}"
            r"(?:[ ]?(?:x|ext\.?|extension)[ ]?\d{1,6})?(?![\w\-/]|\.\d)",
            0.3,
        ),
        Pattern("phone_digits", r"(?<![\w+.\-/])(?<!\d:)\d{10,11}(?![\w\-/]|\.\d)", 0.1),
    ),
    validator="phone",
    validated_score=0.7,
    context=("phone", "telephone", "tel", "cell", "cellphone", "mobile", "call", "fax", "whatsapp", "sms",
             "landline", "phone number", "contact number"),
    description="Candidates validated with libphonenumber (international or by common regions).",
)  # fmt: skip

RECOGNIZERS = (EMAIL, PHONE)

"""Absolute calendar dates (and date-times). Relative phrases ("next week", "today") are never reported."""

from __future__ import annotations

from veil.detect.recognizer import Pattern, PatternRecognizer

_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?"
    r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_DAY = r"(?:0?[1-9]|[12]\d|3[01])"
# Without a year, "may" is a month only when written May or MAY ("you may 2 ..." is not a date).
_MONTH_NO_YEAR = _MONTH.replace("|may|", "|(?-i:May|MAY)|")
_YEAR = r"(?:1[89]\d{2}|20\d{2})"
_TIME = r"(?:[T ](?:[01]?\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:\.\d{1,9})?)?(?:\s?[AaPp][Mm])?(?:Z|[+-]\d{2}:?\d{2})?)?"

DATE = PatternRecognizer(
    name="date",
    entity="DATE_TIME",
    patterns=(
        Pattern("iso_date", rf"(?<![\w\-/.]){_YEAR}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01]){_TIME}(?![\w\-/]|\.\d)",
                0.6),
        # a date with a clock time is strong evidence: it outranks a phone read inside "09:15:30.500-07:00"
        Pattern("iso_datetime", rf"(?<![\w\-/.]){_YEAR}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])[T ](?:[01]\d|2[0-3]):[0-5]\d"
                r"(?::[0-5]\d(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?(?![\w\-/]|\.\d)", 0.85),
        Pattern("month_year_numeric", r"(?<![\w\-/.])(?:0?[1-9]|1[0-2])/(?:19|20)\d{2}(?![\w\-/]|\.\d)", 0.4),
        Pattern("month_dash", rf"\b(?:{_MONTH_NO_YEAR}-(?:{_YEAR}|{_DAY})|{_DAY}-{_MONTH_NO_YEAR})\b(?!-)", 0.6,
                flags=("IGNORECASE",)),
        Pattern("numeric_date", rf"(?<![\w\-/.]){_DAY}([/.\-]){_DAY}\1(?:{_YEAR}|\d{{2}})(?![\w\-/]|\.\d)", 0.5),
        Pattern("numeric_date_ymd", rf"(?<![\w\-/.]){_YEAR}([/.]){_DAY}\1{_DAY}(?![\w\-/]|\.\d)", 0.5),
        Pattern("day_month_year", rf"\b{_DAY}(?:st|nd|rd|th)?\s{{1,3}}(?:of\s{{1,3}})?{_MONTH}\.?,?\s{{1,3}}{_YEAR}\b", 0.6,
                flags=("IGNORECASE",)),
        Pattern("month_day_year", rf"\b{_MONTH}\.?\s{{1,3}}{_DAY}(?:st|nd|rd|th)?,?\s{{1,3}}{_YEAR}\b", 0.6,
                flags=("IGNORECASE",)),
        # 5-May-2021, 22-nov-1972, 05/Mar/20, 5.May.2021: a month name between the same separators
        Pattern("day_mon_year", rf"(?<![\w\-/.]){_DAY}([\-/.]){_MONTH}\1(?:{_YEAR}|\d{{2}})(?![\w\-/]|\.\d)", 0.6,
                flags=("IGNORECASE",)),
        Pattern("month_year", rf"\b{_MONTH}\.?,?\s{{1,3}}(?:of\s{{1,3}})?{_YEAR}\b", 0.4, flags=("IGNORECASE",)),
        Pattern("day_month_short_year", rf"\b{_DAY}(?:st|nd|rd|th)?\s{{1,3}}{_MONTH}\.?,?\s{{1,3}}'?\d{{2}}\b(?![\d:.])",
                0.5, flags=("IGNORECASE",)),
        # no year: "Jan 5", "5th of March", "MAY 16"; the month name in any case, May only capitalized
        Pattern("month_day", rf"\b{_MONTH_NO_YEAR}\.?\s{{1,3}}{_DAY}(?:st|nd|rd|th)?\b(?![:.]\d)", 0.45,
                flags=("IGNORECASE",)),
        Pattern("day_month", rf"\b{_DAY}(?:st|nd|rd|th)?\s{{1,3}}(?:of\s{{1,3}})?{_MONTH_NO_YEAR}\b", 0.45,
                flags=("IGNORECASE",)),
    ),
    validator="date",
    validated_score=0.75,
    context=("born", "birth", "birthday", "dob", "date", "birthdate", "died", "admitted", "discharged",
             "expires", "expiry", "issued"),
    description="ISO, numeric (validated as a real calendar date) and written dates with a year.",
)  # fmt: skip

RECOGNIZERS = (DATE,)

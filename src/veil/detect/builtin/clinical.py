"""Recognizers of the clinical profile: the identifiers of HIPAA Safe Harbor as clinical notes write them.

Notes are mostly UPPER CASE or lower case, full of abbreviations, and name people by role ("Dr. Jones",
"wife mary", "report given to Anne RN"): names are found from that context and confirmed by the shipped
gazetteers; dates come without years (7/22) and years alone ('09, 1993); hospitals are abbreviations (GH).
None of these run in the general profile, where "5/10" is more often a score than a date.
"""

from __future__ import annotations

from veil.detect import gazetteer_checks  # noqa: F401 - registers the validators used below
from veil.detect.recognizer import Pattern, PatternRecognizer

_WORD = r"([A-Za-z][A-Za-z'\-]*[A-Za-z])"
_NOT_STOP = r"(?!(?:at|to|from|in|on|the|a|an|had|has|was|is|of|and|for|with|by|went|back|transfer(?:red)?)\s)"
# "pain 5/10", "PSV 10/5", "ratio 2/1" are scores and settings, not dates
_NOT_AFTER_SCALE = "".join(
    rf"(?<!\b{w}\s)(?<!\b{w}:\s)(?<!\b{w})"
    for w in ("pain", "psv", "ps", "cpap", "bipap", "ratio", "peep", "ie", "strength")
)
_WORD_NC = r"[A-Za-z][A-Za-z'\-]*[A-Za-z]"  # a word, not captured
_INITIAL = r"(?:[A-Za-z]\.\s{0,2})"
_CREDENTIAL = r"(?:(?-i:RN|R\.N\.|NP|MD|M\.D\.|PA-C|CNS|RRT|LPN|LICSW|MSW|PharmD)|(?i:rn|rrt|np|lpn))"
_CARE_ROLE = r"(?:(?-i:RN|NP|MD|CNS|RRT|SW|HO)|resident|fellow|attending|intern|nurse|rabbi|chaplain|priest|pastor)"
_ROLE = (r"(?:wife|husband|spouse|partner|son|daughter|dtr|sister|sis|brother|bro|mother|mom|father|dad|friend|niece"
         r"|nephew|granddaughter|grandson|grandchild|aunt|uncle|cousin|proxy|hcp|fiance|fiancee|boyfriend|girlfriend"
         r"|neighbor|neighbour|guardian|sibling|caregiver|visitor)")  # fmt: skip

CLINICIAN = PatternRecognizer(
    name="clinician_name",
    entity="PERSON",
    patterns=(
        Pattern("doctor", rf"\b(?:dr|drs|doctor)\.?\s{{1,3}}{_WORD}", 0.6, flags=("IGNORECASE",), group=1),
        Pattern("title", rf"\b(?:mr|mrs|ms|miss|mx)\.?\s{{1,3}}{_WORD}", 0.6, flags=("IGNORECASE",), group=1),
        # signatures and mentions: "ANTHONY C. KOZICKI, RRT", "s. roberto rrt", "Anne RN"
        Pattern("role_after", rf"\b({_INITIAL}?(?:{_WORD_NC}\s{{1,2}})?{_INITIAL}?{_WORD_NC}),?\s{{1,2}}{_CREDENTIAL}\b", 0.3,
                group=1),
        Pattern("role_after_one", rf"\b{_WORD},?\s{{1,2}}{_CREDENTIAL}\b", 0.3, group=1),
        Pattern("role_before", rf"\b{_CARE_ROLE}\s{{1,2}}({_WORD_NC}(?:\s{{1,2}}{_INITIAL}?{_WORD_NC})?)", 0.3,
                flags=("IGNORECASE",), group=1),
        Pattern("role_before_one", rf"\b{_CARE_ROLE}\s{{1,2}}{_WORD}", 0.3, flags=("IGNORECASE",), group=1),
        Pattern("initial_last", rf"(?<![\w.])((?-i:[A-Z])\.\s?{_WORD_NC})\b", 0.3, flags=("IGNORECASE",), group=1),
    ),
    validator="name_words",
    validated_score=0.85,
    description="care givers named by title or role; confirmed by the name gazetteer, never a clinical term",
)  # fmt: skip

RELATIVE = PatternRecognizer(
    name="relative_name",
    entity="PERSON",
    patterns=(
        Pattern("role", rf"\b{_ROLE}(?:'s|s)?\s{{0,2}}[,:(]?\s{{0,2}}(?:named\s|is\s|was\s)?{_WORD}", 0.3,
                flags=("IGNORECASE",), group=1),
        Pattern("named", rf"\b(?:name\s(?:is|was)|named|called|goes\sby|spoke\swith|spoke\sto|talked\sto|d/w|per|"
                rf"seen\sby|paged|notified|discussed\swith|aware\b:?)\s{{1,2}}{_WORD}", 0.3,
                flags=("IGNORECASE",), group=1),
    ),
    validator="known_name",
    validated_score=0.8,
    description="relatives, proxies and people named in passing; kept only when the gazetteer knows the name",
)  # fmt: skip

RELATIVE_FULL = PatternRecognizer(
    name="relative_full_name",
    entity="PERSON",
    patterns=(
        Pattern("role_full", rf"\b{_ROLE}(?:'s|s)?\s{{0,2}}[,:(]?\s{{0,2}}(?:is\s|was\s)?(?:(?:mr|mrs|ms)\.?\s)?"
                rf"({_WORD_NC}\s{{1,2}}{_INITIAL}?{_WORD_NC})", 0.3, flags=("IGNORECASE",), group=1),
    ),
    validator="name_words",
    validated_score=0.8,
    description="relatives named in full (\"wife, Carol Buckley\"); every word a name or an initial",
)  # fmt: skip

PLACE = PatternRecognizer(
    name="place_in_context",
    entity="LOCATION",
    patterns=(
        Pattern("after_preposition", rf"\b(?:from|in|to|at|near|of|visiting|returned\sfrom|moved\sto)\s{{1,2}}({_WORD_NC}"
                rf"(?:\s{_WORD_NC})?)\b", 0.3, flags=("IGNORECASE",), group=1),
        Pattern("after_preposition_one", rf"\b(?:from|in|to|at|near|of|visiting)\s{{1,2}}{_WORD}\b", 0.3,
                flags=("IGNORECASE",), group=1),
    ),
    validator="known_place",
    validated_score=0.7,
    description="cities, regions and countries the gazetteer knows, after from / in / to / near",
)  # fmt: skip

MONTH_DAY = PatternRecognizer(
    name="month_day",
    entity="DATE_TIME",
    patterns=(
        # not a motor-strength grade (4/5) or a common fraction (1/2, 3/4)
        Pattern("numeric", rf"(?<![\w/.\-:]){_NOT_AFTER_SCALE}(?!(?:[1-5]/5|1/[234]|2/3|3/4)(?!\d))(?:1[0-2]|0?[1-9])/(?:3[01]|[12]\d|0?[1-9])(?![\w/]|\.\d|:\d|\s?mg)", 0.5),
        Pattern("dashed_year", r"(?<![\w/.\-:])(?:1[0-2]|0?[1-9])-(?:3[01]|[12]\d|0?[1-9])-\d{2}(?![\w/\-]|\.\d)", 0.6),
        # month and a two-digit year that cannot be a day: 5/97, (12/93), 1/78
        Pattern("month_short_year", r"(?<![\w/.\-:])(?:1[0-2]|0?[1-9])/(?:3[2-9]|[4-9]\d)(?![\w/]|\.\d|:\d)", 0.5),
        Pattern("apostrophe_year", r"(?:(?<=\s)|(?<=^)|(?<=[A-Za-z]))'(?:[0-9]{2})\b|\b(?:[0-9]{2})'(?=[\s.,;]|$)", 0.5,
                flags=("MULTILINE",)),
    ),
    context=("on", "since", "from", "until", "dated", "admitted", "discharged", "seen", "date", "last", "day"),
    context_boost=0.2,
    description="month/day without a year (7/22), m-d-yy (3-12-99), years written '09 or 62'",
)  # fmt: skip

YEAR = PatternRecognizer(
    name="year_alone",
    entity="DATE_TIME",
    patterns=(
        Pattern("year", r"(?<![\w@~./\-:])(?<!\bat\s)(?<!\bby\s)(?<!\bto\s)(?:19[1-9]\d|20[0-2]\d)"
                r"(?![\w/\-:]|\.\d|\s?(?:hrs?|h\b|pm|am|cc|ml|mg|mcg|units?|u\b|kcal|cals?|calories|-\s?\d))", 0.45,
                flags=("IGNORECASE",)),
    ),
    description="a year alone (1993, 2008), not a clock time (at 2000, 1900-0700) or an amount",
)  # fmt: skip

AGE_OVER_89 = PatternRecognizer(
    name="age_over_89",
    entity="AGE",
    patterns=(
        Pattern("age", r"\b(9\d|1[0-2]\d)\s?-?\s?(?:yo|y/o|y\.o\.?|yrs?\.?\s?old|years?[\s\-]old|years? of age|yof|yom"
                r"|y\.?o\.?\s?[mf])\b", 0.8, flags=("IGNORECASE",), group=1),
        Pattern("aged", r"\b(?:age|aged)\s?:?\s?(9\d|1[0-2]\d)\b", 0.7, flags=("IGNORECASE",), group=1),
    ),
    description="ages over 89 (HIPAA Safe Harbor: younger ages may stay)",
)  # fmt: skip

SHORT_PHONE = PatternRecognizer(
    name="pager_extension",
    entity="PHONE_NUMBER",
    patterns=(
        Pattern("pager", r"\b(?:pager|beeper|pgr|pg|bpr|beep|page|ext|extension|x|tel|phone|ph|cell|call|#)\.?\s?[:#]?\s?#?"
                r"(\d{4,5})\b(?![./]\d)", 0.55, flags=("IGNORECASE",), group=1),
        Pattern("spaced_or_slashed", r"(?<![\w/.\-])\d{3}(-\s|/)\d{3}\1\d{4}(?![\w/\-]|\.\d)", 0.6),
    ),
    description="pager numbers and extensions (4 or 5 digits after pager, ext, x, #)",
)  # fmt: skip

MRN = PatternRecognizer(
    name="medical_record_number",
    entity="MEDICAL_RECORD_NUMBER",
    patterns=(
        Pattern("mrn", r"\b(?:mrn|mr\s?#|med(?:ical)?\s?rec(?:ord)?\s?(?:number|no\.?|#)?|unit\s?(?:no\.?|#)|acct|"
                r"account\s?(?:number|no\.?|#)?|hospital\s?(?:number|no\.?|#))\s?[:#]?\s?([A-Z]{0,2}\d{5,10})\b", 0.8,
                flags=("IGNORECASE",), group=1),
    ),
    description="medical record, unit and account numbers named as such",
)  # fmt: skip

HOSPITAL = PatternRecognizer(
    name="hospital",
    entity="LOCATION",
    patterns=(
        Pattern("abbreviation", r"\b(?:from|to|at|in|@|via|back\sto)\s{1,2}(?:the\s)?((?-i:[A-Z]{1,4}(?:H|MC|HC)))\b",
                0.55, flags=("IGNORECASE",), group=1),
        Pattern("named", rf"\b((?:{_NOT_STOP}[A-Za-z][A-Za-z'.\-]+\s){{1,2}}(?:hospital|medical\scenter|med\sctr|clinic"
                r"|rehab|nursing\shome|health\scenter|infirmary|VA|memorial|campus|manor|hosp|assisted\sliving))\b", 0.5,
                flags=("IGNORECASE",), group=1),
        Pattern("university", r"\b((?:university|univ|u)\s(?:of\s)(?:[A-Za-z]+)(?:\s(?:hospital|hosp|medical\scenter|med\scenter"
                r"|medical|med\sctr))?)\b", 0.6, flags=("IGNORECASE",), group=1),
        Pattern("ward", r"\b(?:to|on|from|at|in)\s{1,2}(?:the\s)?([A-Za-z]{4,}\s{0,2}\.?\d{1,2})\b(?![./:]\d)", 0.3,
                flags=("IGNORECASE",), group=1),
    ),
    validator="not_clinical",
    validated_score=0.7,
    description="hospitals and care homes: abbreviations after from/to/at (GH, VAMC), names before 'hospital'",
)  # fmt: skip

RECOGNIZERS = (CLINICIAN, RELATIVE, RELATIVE_FULL, PLACE, MONTH_DAY, YEAR, AGE_OVER_89, SHORT_PHONE, MRN, HOSPITAL)

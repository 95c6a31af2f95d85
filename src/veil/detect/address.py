"""Address completion: a street line absorbs the unit, city/region lines and postcode written after it.

Addresses are written as a block ("1600 Amphitheatre Parkway, Mountain View, CA 94043" or over several lines).
Recognizers find the street line; this step extends it over what follows when it is clearly part of the
address: a unit ("Apt. 4", "Suite 200"), a postcode, a state/region code, or capitalised place words after
a comma or line break (up to a place that NER found: that one stays a LOCATION of its own). Extension
stops at sentence punctuation.
"""

from __future__ import annotations

import re
from dataclasses import replace

from veil.types import Finding

_SEP = r"(?:[ \t]*,[ \t]*\n?[ \t]*|[ \t]*\n[ \t]*|[ \t]+)"
_UNIT = r"(?i:apt|apartment|suite|ste|unit|flat|floor|fl|room|rm|bldg|building|#)\.?[ \t]*#?[A-Za-z0-9\-]{1,6}\b"
_POSTCODE = (
    r"(?:\d{5}(?:-\d{4})?|\d{4}|\d{3}[ ]?\d{2}|\d{2}-\d{3}"  # US, 4-digit, SE/CZ/GR, PL
    r"|[A-Z]{1,2}\d[A-Z\d]?[ ]?\d[A-Z]{2}|[A-Z]\d[A-Z][ ]?\d[A-Z]\d)\b"  # UK, Canada
)
_REGION = r"(?:[A-Z]{2,3})\b"
_PLACE = r"(?:[^\W\d_][\w'\-]*)(?:[ \t]+(?:[^\W\d_][\w'\-]*)){0,3}"  # no dots: a "." ends the sentence

# One segment after a separator; group "strong" marks segments that may follow plain spaces.
_SEGMENT = re.compile(
    rf"(?P<sep>{_SEP})(?:(?P<strong>{_UNIT}|{_REGION}(?=[ \t]+\d)|{_REGION}(?=$|[,.;\n]))|(?P<post>{_POSTCODE})"
    rf"|(?P<place>{_PLACE}))"
)
# A following postcode joins the address; a place found by NER stays its own LOCATION finding, so that
# generalization (street -> city/state) can keep it.
_ABSORB = frozenset({"ZIP_CODE"})
_MAX_SEGMENTS = 6


def _place_ok(text: str) -> bool:
    words = text.split()
    return all(w[0].isupper() for w in words) and len(words) <= 4


def complete_addresses(text: str, findings: list[Finding]) -> list[Finding]:
    """``findings`` (sorted, non-overlapping) with each STREET_ADDRESS extended over its address block."""
    if not any(f.entity == "STREET_ADDRESS" for f in findings):
        return findings
    out: list[Finding] = []
    i = 0
    while i < len(findings):
        f = findings[i]
        i += 1
        if f.entity != "STREET_ADDRESS":
            out.append(f)
            continue
        end = f.end
        absorbed = 0
        after_postcode = False
        for _ in range(_MAX_SEGMENTS):
            # A following ZIP_CODE finding separated only by a separator joins the address.
            if i < len(findings) and findings[i].entity in _ABSORB:
                gap = text[end : findings[i].start]
                if len(gap) <= 4 and re.fullmatch(r"[ \t,\n]*", gap):
                    end = findings[i].end
                    i += 1
                    absorbed += 1
                    continue
            m = _SEGMENT.match(text, end)
            if m is None:
                break
            limit = findings[i].start if i < len(findings) else len(text)
            if m.end() > limit:
                break
            place, sep = m.group("place"), m.group("sep")
            if m.group("strong") or m.group("post"):
                end = m.end()
            elif place and (after_postcode or "," in sep or "\n" in sep) and _place_ok(place):
                end = m.end()  # "Mountain View" after a comma, "Berlin" after "10115"
            else:
                break
            after_postcode = m.group("post") is not None
            absorbed += 1
        if absorbed:
            note = (*f.explanation.notes, f"address block: +{absorbed} part(s)")
            f = replace(f, end=end, value=text[f.start : end], explanation=replace(f.explanation, notes=note))
        out.append(f)
    return out

"""Overlap resolution: one finding per stretch of text.

1. Overlapping findings of the same entity merge into one span (the higher score's explanation is kept).
2. Across entities, findings are taken greedily by (score, length): a candidate that overlaps an accepted,
   stronger finding is dropped. Validated, specific findings therefore beat weaker readings of the same
   characters: a URL inside an e-mail, an NHS or licence number inside an IBAN or phone, a date inside a card.
"""

from __future__ import annotations

from bisect import bisect_left

from veil.types import Finding


def _merge_same_entity(findings: list[Finding]) -> list[Finding]:
    by_start = sorted(findings, key=lambda f: (f.entity, f.start, -f.end))
    out: list[Finding] = []
    for f in by_start:
        last = out[-1] if out else None
        if last is not None and last.entity == f.entity and f.start < last.end:
            if f.end <= last.end and f.score <= last.score:
                continue
            best = last if last.score >= f.score else f
            end = max(last.end, f.end)
            text_value = last.value + f.value[last.end - f.start :] if f.end > last.end else last.value
            out[-1] = Finding(f.entity, last.start, end, best.score, text_value, best.explanation)
        else:
            out.append(f)
    return out


# Validators whose pass is evidence a phone guess cannot outweigh: a check digit, or a format phones never use.
CHECKED = frozenset({"nhs", "aadhaar", "us_ssn", "us_itin", "credit_card", "iban"})


def _checked_first(findings: list[Finding]) -> list[Finding]:
    """A number that passes an identifier's check is that identifier, not a phone number, unless phone
    context words were seen (a valid NHS number written 943 476 5919 is still an NHS number)."""
    checked = {(f.start, f.end) for f in findings
               if f.explanation.validator in CHECKED and f.explanation.validation == "passed"}  # fmt: skip
    if not checked:
        return findings
    return [f for f in findings if not _loses(f, checked)]


def _loses(f: Finding, checked: set[tuple[int, int]]) -> bool:
    return f.entity == "PHONE_NUMBER" and (f.start, f.end) in checked and not f.explanation.context


def resolve(findings: list[Finding]) -> list[Finding]:
    """Non-overlapping findings, sorted by start offset."""
    if len(findings) < 2:
        return list(findings)
    ranked = sorted(_merge_same_entity(_checked_first(findings)), key=lambda f: (-f.score, f.start - f.end, f.start))
    accepted: list[Finding] = []
    starts: list[int] = []
    for f in ranked:
        i = bisect_left(starts, f.start)
        if i > 0 and accepted[i - 1].end > f.start:
            continue
        if i < len(accepted) and accepted[i].start < f.end:
            continue
        accepted.insert(i, f)
        starts.insert(i, f.start)
    return accepted

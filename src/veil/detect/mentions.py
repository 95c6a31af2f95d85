"""Mention propagation: a value detected once is reported wherever else it occurs in the same text.

Recognizers and NER can miss a repeat of a value (a name the model tags in one sentence only, a number glued
to the previous token). Every other exact occurrence of a detected value becomes a finding of the same entity,
unless it is glued to letters (for a value that starts/ends with a letter) or digits (digit edges): then it is
part of another word or number.
"""

from __future__ import annotations

from dataclasses import replace

from veil.types import Finding

MIN_LENGTH = 3


def _glued(a: str, b: str) -> bool:
    return (a.isalpha() and b.isalpha()) or (a.isdigit() and b.isdigit())


def propagate(text: str, findings: list[Finding]) -> list[Finding]:
    """Extra findings for undetected repeats of detected values (not yet resolved against ``findings``)."""
    covered = {(f.start, f.end) for f in findings}
    seen: set[str] = set()
    extra: list[Finding] = []
    for f in findings:
        value = f.value
        if len(value) < MIN_LENGTH or value in seen:
            continue
        if f.entity == "PASSWORD" and (len(value) < 8 or value.isalpha()):
            continue  # "admin" elsewhere is more likely the user name than the password again
        seen.add(value)
        pos = text.find(value)
        while pos >= 0:
            end = pos + len(value)
            if (pos, end) not in covered and not (
                (pos > 0 and _glued(text[pos - 1], value[0])) or (end < len(text) and _glued(value[-1], text[end]))
            ):
                note = (*f.explanation.notes, "another mention of a detected value")
                extra.append(replace(f, start=pos, end=end, explanation=replace(f.explanation, notes=note)))
            pos = text.find(value, pos + 1)
    return extra

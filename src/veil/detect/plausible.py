"""Every entity type a single value could be: each recognizer whose pattern covers the whole value and whose
validator does not reject it (``536-22-1234`` is a US_SSN and a PHONE_NUMBER shape). Access control uses it so
that a role's visibility rules hold whatever type the detector chose when the value was tokenized."""

from __future__ import annotations

from functools import cache

from veil.detect.builtin import BUILTIN
from veil.detect.recognizer import PatternRecognizer
from veil.detect.validators import get_validator


def plausible_entities(value: str, recognizers: tuple[PatternRecognizer, ...] | None = None) -> frozenset[str]:
    text = value.strip()
    found: set[str] = set()
    for rec in recognizers or _builtin():
        validate = get_validator(rec.validator) if rec.validator else None
        for i, pattern in enumerate(rec.patterns):
            for m in rec.compiled(i).finditer(text):
                start, end = m.span(pattern.group)
                if start == 0 and end == len(text) and (validate is None or validate(text) is not False):
                    found.add(rec.entity)
                    break
    return frozenset(found)


@cache
def _builtin() -> tuple[PatternRecognizer, ...]:
    return tuple(BUILTIN)

"""Validators that consult the shipped gazetteers (names, places, common words, clinical terms).

Registered in the same registry as ``veil.detect.validators`` by name, so recognizers declare them as data; the
clinical recognizers import this module.
"""

from __future__ import annotations

from veil.detect import gazetteers as g
from veil.detect.validators import register


@register("name_words")
def name_words(text: str) -> bool | None:
    """Words a title, role or credential marks as a name ("ANTHONY C. KOZICKI", "s. roberto"): each a name or
    an initial, never a common word or clinical term; True when the gazetteer knows one of them."""
    known = False
    for word in text.split():
        core = word.strip(".,")
        if len(core) <= 1:
            continue  # an initial
        if g.never_a_name(core) or (core.lower() in g.common_words() and not g.is_name(core)):
            return False
        known = known or g.is_name(core)
    return True if known else None


@register("known_place")
def known_place(text: str) -> bool:
    """A city, region or country of the gazetteer that is not also a common word or clinical term."""
    value = text.lower()
    words = value.split()
    if value not in g.places() or any(g.never_a_name(w) for w in words):
        return False
    # one word must not be an English word ("bear", "normal"); a place of several words ("new haven", "middle
    # river") is a name as a whole
    return len(words) > 1 or value not in g.common_words()


@register("known_name")
def known_name(text: str) -> bool:
    """Only a name the gazetteer knows and that is not also a common word ("wife at", "son called")."""
    return g.is_name(text) and not g.never_a_name(text) and text.lower() not in g.common_words()


@register("not_clinical")
def not_clinical(text: str) -> bool | None:
    """Not a clinical abbreviation (OSH is "outside hospital", not a place)."""
    words = text.split()
    first = words[0].lower()
    if first in g.clinical_terms() or g.never_a_name(first) or first in g.common_words():
        return False  # "OSH", "WITH", "cardiac rehab", "she needs rehab"
    if len(words) == 2 and words[1][-1].isdigit():  # a ward: a building's name and a floor ("Smith 6")
        return True
    return None

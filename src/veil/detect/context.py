"""Context words: whole-word (and whole-phrase) matches in a window of words around a finding."""

from __future__ import annotations

import re
from functools import lru_cache

_WORD = re.compile(r"[^\W_]+", re.UNICODE)


@lru_cache(maxsize=4096)
def _normalize(words: tuple[str, ...]) -> tuple[dict[str, str], tuple[tuple[str, ...], ...]]:
    """Accepted single-word forms (word and plurals -> the context word) and multi-word phrases."""
    forms: dict[str, str] = {}
    phrases: list[tuple[str, ...]] = []
    for word in words:
        parts = tuple(_WORD.findall(word.lower()))
        if len(parts) == 1:
            w = parts[0]
            for form in (w, w + "s", w + "es"):
                forms.setdefault(form, w)
        elif parts:
            phrases.append(parts)
    return forms, tuple(phrases)


class ContextScorer:
    """Finds context words within ``before`` words before and ``after`` words after a span.

    Words match whole words only ("card" never matches inside "discard"), case-insensitively, plurals
    included ("cards", "addresses"); multi-word phrases ("national insurance") match as consecutive words.
    """

    def __init__(self, before: int = 6, after: int = 3, chars_per_word: int = 24) -> None:
        if before < 0 or after < 0:
            raise ValueError("context window sizes must be non-negative")
        self.before = before
        self.after = after
        self._span_before = before * chars_per_word
        self._span_after = after * chars_per_word

    def words_near(self, text: str, start: int, end: int, context: tuple[str, ...]) -> tuple[str, ...]:
        forms, phrases = _normalize(context)
        left = _WORD.findall(text[max(0, start - self._span_before) : start].lower())
        right = _WORD.findall(text[end : end + self._span_after].lower())
        words = (left[-self.before :] if self.before else []) + right[: self.after]
        seen: list[str] = []
        for word in words:
            if word in forms and word not in seen:
                seen.append(word)
        for phrase in phrases:
            n = len(phrase)
            if any(tuple(words[i : i + n]) == phrase for i in range(len(words) - n + 1)):
                seen.append(" ".join(phrase))
        return tuple(seen)

"""Deny lists (terms that are always PII) and allow lists (values that never are), via Aho-Corasick."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

import ahocorasick

from veil.errors import ConfigError
from veil.types import Explanation, Finding


def _fold(text: str) -> str:
    """Lower-case ``text`` without changing its length, so offsets stay valid."""
    low = text.lower()
    if len(low) == len(text):
        return low
    return "".join(ch.lower() if len(ch.lower()) == 1 else ch for ch in text)


class DenyList:
    """Whole-word, case-insensitive matches of known terms, each mapped to an entity type."""

    name = "deny_list"

    def __init__(self, terms: Mapping[str, Iterable[str]], score: float = 1.0) -> None:
        if not 0.0 <= score <= 1.0:
            raise ConfigError(f"deny list score {score} is not within 0..1")
        self.score = score
        self.entities = frozenset(terms)
        self._automaton = ahocorasick.Automaton()
        count = 0
        for entity, words in terms.items():
            if not re.fullmatch(r"[A-Z][A-Z0-9_]*", entity):
                raise ConfigError(f"deny list entity '{entity}' must be UPPER_SNAKE_CASE")
            if isinstance(words, str):
                raise ConfigError(f"deny list for '{entity}' must be a list of terms, not a string")
            for word in words:
                term = _fold(str(word).strip())
                if not term:
                    raise ConfigError(f"deny list for '{entity}' contains an empty term")
                self._automaton.add_word(term, (entity, len(term)))
                count += 1
        self.size = count
        if count:
            self._automaton.make_automaton()

    def find(self, text: str) -> list[Finding]:
        if not self.size:
            return []
        folded = _fold(text)
        out: list[Finding] = []
        for end_index, (entity, length) in self._automaton.iter(folded):
            start, end = end_index - length + 1, end_index + 1
            if (start > 0 and folded[start - 1].isalnum()) or (end < len(folded) and folded[end].isalnum()):
                continue  # whole words only
            out.append(
                Finding(entity, start, end, self.score, text[start:end],
                        Explanation(recognizer=self.name, base_score=self.score, notes=("deny list term",)))
            )  # fmt: skip
        return out


class AllowList:
    """Values that are never reported: exact strings (case-insensitive) and full-match regexes."""

    def __init__(self, values: Iterable[str] = (), patterns: Iterable[str] = ()) -> None:
        self._values = frozenset(_fold(v.strip()) for v in values)
        try:
            self._patterns = tuple(re.compile(p, re.IGNORECASE) for p in patterns)
        except re.error as exc:
            raise ConfigError(f"allow list pattern is not a valid regular expression: {exc}") from None

    def __bool__(self) -> bool:
        return bool(self._values or self._patterns)

    def allows(self, value: str) -> bool:
        if _fold(value.strip()) in self._values:
            return True
        return any(p.fullmatch(value) for p in self._patterns)

"""Recognizers declared as data: regex patterns + an optional validator + context words + scores."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from veil.detect.context import ContextScorer
from veil.detect.validators import PREFIXES, get_validator
from veil.errors import RecognizerError
from veil.types import Explanation, Finding

_ENTITY_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")
_FLAG_NAMES = {"IGNORECASE": re.IGNORECASE, "MULTILINE": re.MULTILINE, "DOTALL": re.DOTALL}
_TRAILING = ".,;:!?'\")]}>"


@dataclass(frozen=True, slots=True)
class Pattern:
    """One regular expression of a recognizer. ``group`` selects a capture group as the finding's span."""

    name: str
    regex: str
    score: float
    flags: tuple[str, ...] = ()
    group: int = 0
    standalone: bool = False  # the pattern carries its own context: exempt from context_required

    def __post_init__(self) -> None:
        if not 0.0 <= self.score <= 1.0:
            raise RecognizerError(f"pattern '{self.name}': score {self.score} is not within 0..1")
        unknown = set(self.flags) - set(_FLAG_NAMES)
        if unknown:
            raise RecognizerError(f"pattern '{self.name}': unknown regex flags {sorted(unknown)}")
        try:
            compiled = re.compile(self.regex, self.re_flags)
        except re.error as exc:
            raise RecognizerError(f"pattern '{self.name}': invalid regular expression: {exc}") from None
        if self.group > compiled.groups:
            raise RecognizerError(f"pattern '{self.name}': group {self.group} does not exist in the regex")

    @property
    def re_flags(self) -> int:
        out = 0
        for name in self.flags:
            out |= _FLAG_NAMES[name]
        return out


@dataclass(frozen=True, slots=True)
class PatternRecognizer:
    """A recognizer for one entity type.

    Scoring: a match starts at its pattern's score. A validator returning True raises it to
    ``validated_score``; False drops the candidate. Context words seen near the match add
    ``context_boost`` (at least ``context_min_score``). With ``context_required`` a match without context
    is dropped (used for ZIP codes, driver licences and other weak formats).
    """

    name: str
    entity: str
    patterns: tuple[Pattern, ...]
    validator: str | None = None
    validated_score: float = 1.0
    context: tuple[str, ...] = ()
    context_required: bool = False
    context_boost: float = 0.35
    context_min_score: float = 0.4
    strip_trailing: bool = False
    description: str = ""
    _compiled: tuple[re.Pattern[str], ...] = field(default=(), init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.name:
            raise RecognizerError("a recognizer needs a name")
        if not _ENTITY_NAME.match(self.entity):
            raise RecognizerError(f"recognizer '{self.name}': entity '{self.entity}' must be UPPER_SNAKE_CASE")
        if not self.patterns:
            raise RecognizerError(f"recognizer '{self.name}': at least one pattern is required")
        if self.context_required and not self.context:
            raise RecognizerError(f"recognizer '{self.name}': context_required needs context words")
        if self.validator is not None:
            get_validator(self.validator)  # raises a RegistryError naming the known validators
        for value, label in (
            (self.validated_score, "validated_score"),
            (self.context_boost, "context_boost"),
        ):
            if not 0.0 <= value <= 1.0:
                raise RecognizerError(f"recognizer '{self.name}': {label} {value} is not within 0..1")
        compiled = tuple(re.compile(p.regex, p.re_flags) for p in self.patterns)
        object.__setattr__(self, "_compiled", compiled)

    def compiled(self, index: int) -> re.Pattern[str]:
        return self._compiled[index]

    def scan_pattern(self, index: int, text: str, scorer: ContextScorer) -> Iterator[Finding]:
        """All findings of pattern ``index`` in ``text``."""
        return self.findings(index, text, self._compiled[index].finditer(text), scorer)

    def findings(
        self, index: int, text: str, matches: Iterable[re.Match[str]], scorer: ContextScorer
    ) -> Iterator[Finding]:
        """Findings from ``matches`` of pattern ``index`` (validated, context-scored)."""
        pattern = self.patterns[index]
        validate = get_validator(self.validator) if self.validator else None
        prefix = PREFIXES.get(self.validator) if self.validator else None
        for m in matches:
            start, end = m.span(pattern.group)
            if start < 0 or start == end:
                continue
            if self.strip_trailing:
                while end > start and text[end - 1] in _TRAILING and not _balanced(text[start:end]):
                    end -= 1
            value = text[start:end]
            score = pattern.score
            validation: str | None = None
            if validate is not None:
                verdict = validate(value)
                if verdict is False:
                    cut = prefix(value) if prefix is not None else None
                    if not cut:
                        continue
                    end, value, verdict = start + cut, value[:cut], True
                if verdict is True:
                    score = max(score, self.validated_score)
                    validation = "passed"
                else:
                    validation = "inconclusive"
            seen: tuple[str, ...] = ()
            if self.context:
                seen = scorer.words_near(text, start, end, self.context)
                if seen:
                    score = max(min(1.0, score + self.context_boost), self.context_min_score)
                elif self.context_required and not pattern.standalone:
                    continue
            yield Finding(
                self.entity,
                start,
                end,
                score,
                value,
                Explanation(
                    recognizer=self.name,
                    base_score=pattern.score,
                    pattern=pattern.name,
                    validator=self.validator,
                    validation=validation,
                    context=seen,
                ),
            )


def _balanced(value: str) -> bool:
    """True when the last char is a closing bracket that the value itself opened (keep it)."""
    last = value[-1]
    pairs = {")": "(", "]": "[", "}": "{"}
    if last not in pairs:
        return False
    return value.count(pairs[last]) >= value.count(last)

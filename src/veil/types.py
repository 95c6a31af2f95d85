"""Core value types shared by every layer: findings and their explanations."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Explanation:
    """Why a span was reported: which recognizer, which evidence, how the score was reached."""

    recognizer: str
    base_score: float
    pattern: str | None = None
    validator: str | None = None
    validation: str | None = None  # "passed", "failed" or None when no validator ran
    context: tuple[str, ...] = ()
    model: str | None = None
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"recognizer": self.recognizer, "base_score": round(self.base_score, 4)}
        if self.pattern is not None:
            out["pattern"] = self.pattern
        if self.validator is not None:
            out["validator"] = self.validator
            out["validation"] = self.validation
        if self.context:
            out["context"] = list(self.context)
        if self.model is not None:
            out["model"] = self.model
        if self.notes:
            out["notes"] = list(self.notes)
        return out

    def summary(self) -> str:
        parts = [self.recognizer]
        if self.pattern:
            parts.append(f"pattern={self.pattern}")
        if self.validator:
            parts.append(f"{self.validator}={self.validation}")
        if self.context:
            parts.append("context=" + ",".join(self.context))
        if self.model:
            parts.append(f"model={self.model}")
        parts.extend(self.notes)
        return "; ".join(parts)


@dataclass(frozen=True, slots=True)
class Finding:
    """One detected piece of personal data: ``text[start:end]`` is ``value``."""

    entity: str
    start: int
    end: int
    score: float
    value: str
    explanation: Explanation = field(compare=False)

    @property
    def recognizer(self) -> str:
        return self.explanation.recognizer

    def __len__(self) -> int:
        return self.end - self.start

    def overlaps(self, other: Finding) -> bool:
        return self.start < other.end and other.start < self.end

    def to_dict(self, *, include_value: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {
            "entity": self.entity,
            "start": self.start,
            "end": self.end,
            "score": round(self.score, 4),
        }
        if include_value:
            out["value"] = self.value
        out["explanation"] = self.explanation.to_dict()
        return out

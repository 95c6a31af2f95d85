"""Custom recognizers, deny/allow lists and thresholds from a YAML file.

Example::

    recognizers:
      - name: employee_id
        entity: EMPLOYEE_ID
        patterns:
          - {name: emp, regex: 'EMP-\\d{6}', score: 0.8}
        context: [employee, staff]
    deny:
      PERSON: [Jane Roe]
    allow: [support@example.com]
    thresholds:
      PHONE_NUMBER: 0.5
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from veil.detect.recognizer import Pattern, PatternRecognizer
from veil.errors import RecognizerError, VeilError
from veil.yamlfile import read_yaml, validate

Score = Annotated[float, Field(ge=0.0, le=1.0)]


class PatternSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1)
    regex: str = Field(min_length=1)
    score: float = Field(ge=0.0, le=1.0)
    flags: list[str] = []
    group: int = Field(default=0, ge=0)
    standalone: bool = False


class RecognizerSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1)
    entity: str = Field(pattern=r"^[A-Z][A-Z0-9_]*$")
    patterns: list[PatternSpec] = Field(min_length=1)
    validator: str | None = None
    validated_score: float = Field(default=1.0, ge=0.0, le=1.0)
    context: list[str] = []
    context_required: bool = False
    context_boost: float = Field(default=0.35, ge=0.0, le=1.0)
    strip_trailing: bool = False
    description: str = ""


class RecognizerFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    recognizers: list[RecognizerSpec] = []
    deny: dict[str, list[str]] = {}
    allow: list[str] = []
    allow_patterns: list[str] = []
    thresholds: dict[str, Score] = {}


def build(spec: RecognizerSpec) -> PatternRecognizer:
    return PatternRecognizer(
        name=spec.name,
        entity=spec.entity,
        patterns=tuple(Pattern(p.name, p.regex, p.score, tuple(p.flags), p.group, p.standalone) for p in spec.patterns),
        validator=spec.validator,
        validated_score=spec.validated_score,
        context=tuple(spec.context),
        context_required=spec.context_required,
        context_boost=spec.context_boost,
        strip_trailing=spec.strip_trailing,
        description=spec.description,
    )


def load_recognizer_file(path: str | Path) -> tuple[RecognizerFile, list[PatternRecognizer]]:
    """The parsed file and its recognizers; errors name the file, line and key."""
    data, lines = read_yaml(path, RecognizerError)
    spec = validate(RecognizerFile, data, lines, str(path), RecognizerError)
    recognizers = []
    for i, item in enumerate(spec.recognizers):
        try:
            recognizers.append(build(item))
        except VeilError as exc:
            line = lines.get(("recognizers", i))
            where = f"line {line}, " if line else ""
            raise RecognizerError(f"{path}: {where}recognizer '{item.name}': {exc.message}") from None
    return spec, recognizers

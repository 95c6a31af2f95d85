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

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from veil.detect import models
from veil.detect.recognizer import Pattern, PatternRecognizer
from veil.errors import RecognizerError, VeilError
from veil.yamlfile import read_yaml, validate

if TYPE_CHECKING:
    from veil.detect.engine import Detector

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


def build_detector(
    recognizers: str | Path | None = None,
    *,
    ner: bool | Literal["auto"] = "auto",
    entities: Iterable[str] | None = None,
    default_threshold: float = 0.35,
    thresholds: Mapping[str, float] | None = None,
    allow: Iterable[str] = (),
    deny: Mapping[str, Iterable[str]] | None = None,
    profile: str = "general",
    model: str = models.DEFAULT,
) -> Detector:
    """A Detector with the built-in recognizers plus those of a custom file; the file's lists and thresholds
    are merged under the explicit ones."""
    from veil.detect.builtin import BUILTIN
    from veil.detect.engine import Detector

    custom: list[PatternRecognizer] = []
    merged_deny: dict[str, list[str]] = {}
    merged_allow = list(allow)
    merged_thresholds: dict[str, float] = {}
    if recognizers is not None:
        spec, custom = load_recognizer_file(recognizers)
        merged_deny.update(spec.deny)
        merged_allow.extend(spec.allow)
        merged_thresholds.update(spec.thresholds)
    for entity, terms in (deny or {}).items():
        merged_deny.setdefault(entity, []).extend(terms)
    merged_thresholds.update(thresholds or {})
    return Detector(
        [*BUILTIN, *custom],
        ner=ner,
        entities=entities,
        thresholds=merged_thresholds,
        default_threshold=default_threshold,
        allow=merged_allow,
        deny=merged_deny,
        profile=profile,
        model=model,
    )

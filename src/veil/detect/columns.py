"""Column classification: what personal data a table column holds, how sure we are, and why.

Three kinds of evidence, each named in the profile's reasons:

* the column's **name** (``email``, ``dob``, ``zip_code``, ``patient_id``: a table of hints below);
* its **sampled values**, run through the text detector with the column name as context (so ``zip: 94043`` is
  read as a postcode, which a lone ``94043`` is not); validators (Luhn, mod-97, ...) are part of that;
* the shape of the values: long multi-word cells make a **free-text** column, in which the detector runs per cell.

A column gets one role: ``identifier`` (direct: e-mail, phone, IDs, names), ``quasi_identifier`` (birth date,
ZIP, gender, city: identifying in combination), ``sensitive`` (health, income, religion), ``free_text`` or
``other``; and one or more entity types with a confidence each.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from veil.detect.engine import Detector

Role = Literal["identifier", "quasi_identifier", "sensitive", "free_text", "other"]

# (pattern over the normalised name's words, entity or None, role, prior confidence)
_HINTS: list[tuple[str, str | None, Role, float]] = [
    (r"e_?mail(_address)?|mail", "EMAIL_ADDRESS", "identifier", 0.8),
    (r"(mobile|cell|home|work)?_?(phone|tel|telephone|fax)(_number|_no)?|mobile|msisdn", "PHONE_NUMBER", "identifier",
     0.8),
    (r"ssn|social_security(_number|_no)?", "US_SSN", "identifier", 0.9),
    (r"(credit_?)?card(_number|_no)?|cc_?(num|number)|pan", "CREDIT_CARD", "identifier", 0.7),
    (r"iban", "IBAN_CODE", "identifier", 0.9),
    (r"passport(_number|_no)?", "US_PASSPORT", "identifier", 0.8),
    (r"(driver_?s?_)?licen[cs]e(_number|_no)?|dl_number", "US_DRIVER_LICENSE", "identifier", 0.6),
    (r"nhs(_number|_no)?", "UK_NHS", "identifier", 0.9),
    (r"ip(_address|_addr)?", "IP_ADDRESS", "identifier", 0.8),
    (r"(first|last|middle|given|family|full|sur|maiden|customer|patient|contact|user|display)_?name|surname|"
     r"name|forename", "PERSON", "identifier", 0.6),
    (r"(street_?)?(address|addr)(_line)?(_?\d)?|street", "STREET_ADDRESS", "identifier", 0.7),
    (r"password|passwd|pwd|secret|api_?key|token|access_key", "PASSWORD", "identifier", 0.7),
    (r"(user|customer|client|patient|member|employee|person|account|subscriber|student)_?(id|number|no|uuid)|"
     r"uuid|guid|account|mrn", "ID", "identifier", 0.7),
    (r"(date_of_)?birth(_?date|day)?|dob|birthdate", "DATE_TIME", "quasi_identifier", 0.8),
    (r"zip(_?code)?|post_?code|postal(_code)?|plz", "ZIP_CODE", "quasi_identifier", 0.8),
    (r"age(_years)?", "AGE", "quasi_identifier", 0.7),
    (r"gender|sex", "GENDER", "quasi_identifier", 0.8),
    (r"city|town|county|state|province|region|country|nationality|native_country|residence", "LOCATION",
     "quasi_identifier", 0.6),
    (r"race|ethnicity|ethnic_group", "NRP", "quasi_identifier", 0.7),
    (r"lat|lon|lng|latitude|longitude|gps|coordinates|geo", "GPS", "quasi_identifier", 0.6),
    (r"marital(_status)?|occupation|job(_title)?|profession|education(_level)?|workclass|employer", None,
     "quasi_identifier", 0.5),
    (r"salary|income|wage|diagnosis|disease|condition|medication|treatment|religion|health|sexual_orientation|"
     r"political(_party)?|union_member(ship)?|credit_score|criminal(_record)?|disability", None, "sensitive", 0.6),
    (r"notes?|comments?|description|message|text|body|feedback|remarks|summary|transcript|free_text", None,
     "free_text", 0.4),
]  # fmt: skip
_COMPILED = [(re.compile(rf"(?:^|_)(?:{p})(?:$|_)"), e, r, c) for p, e, r, c in _HINTS]
DIRECT = frozenset({
    "EMAIL_ADDRESS", "PHONE_NUMBER", "US_SSN", "CREDIT_CARD", "IBAN_CODE", "US_PASSPORT", "US_DRIVER_LICENSE",
    "UK_NHS", "UK_NINO", "US_ITIN", "IN_AADHAAR", "IN_PAN", "IP_ADDRESS", "MAC_ADDRESS", "PERSON", "STREET_ADDRESS",
    "ID", "PASSWORD", "API_KEY", "PRIVATE_KEY", "JWT", "CRYPTO", "URL",
})  # fmt: skip
QUASI = frozenset({"DATE_TIME", "ZIP_CODE", "AGE", "GENDER", "LOCATION", "NRP", "GPS"})


def normalise(name: str) -> str:
    """``DateOfBirth`` / ``date-of-birth`` / ``DATE OF BIRTH`` -> ``date_of_birth``."""
    name = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name.strip())
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


@dataclass(frozen=True)
class EntityEvidence:
    entity: str
    confidence: float
    share: float  # of sampled non-null cells holding it (free text) or being it (structured)


@dataclass
class ColumnProfile:
    name: str
    dtype: str
    role: Role
    entities: list[EntityEvidence]
    sampled: int
    null_share: float
    distinct_share: float
    reasons: list[str] = field(default_factory=list)
    examples: list[str] = field(default_factory=list)  # masked

    @property
    def entity(self) -> str | None:
        """The main entity type (highest confidence), if any."""
        return self.entities[0].entity if self.entities else None

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "dtype": self.dtype,
            "role": self.role,
            "entities": [
                {"entity": e.entity, "confidence": round(e.confidence, 3), "share": round(e.share, 3)}
                for e in self.entities
            ],
            "sampled": self.sampled,
            "null_share": round(self.null_share, 4),
            "distinct_share": round(self.distinct_share, 4),
            "reasons": self.reasons,
            "examples": self.examples,
        }


def name_hint(name: str) -> tuple[str | None, Role, float] | None:
    norm = normalise(name)
    for pattern, entity, role, prior in _COMPILED:
        if pattern.search(norm):
            return entity, role, prior
    return None


def _masked(value: str) -> str:
    from veil.textio import mask

    return mask(value[:40])


class ColumnClassifier:
    """Profile columns from a name and a sample of values, with a text detector."""

    def __init__(self, detector: Detector, *, min_share: float = 0.1, free_text_chars: int = 40) -> None:
        if not 0.0 < min_share <= 1.0:
            from veil.errors import ConfigError

            raise ConfigError("min_share must be within (0, 1]")
        self.detector = detector
        self.min_share = min_share
        self.free_text_chars = free_text_chars

    def classify(self, name: str, values: Sequence[str | None], dtype: str = "str") -> ColumnProfile:
        total = len(values)
        present = [v for v in values if v is not None and v.strip()]
        null_share = 1 - len(present) / total if total else 1.0
        distinct = len(set(present)) / len(present) if present else 0.0
        hint = name_hint(name)
        reasons: list[str] = []
        if hint is not None:
            what = hint[0] or hint[1].replace("_", " ")
            reasons.append(f"name '{name}' suggests {what}")
        # Long multi-word values make free text, unless the name says what they are (an address line is long too).
        named = hint[0] if hint is not None else None
        free_text = bool(present) and named is None and self._is_free_text(present)
        whole, partial, scores = self._evidence(name, present)
        if named is not None and named in partial:
            whole[named] = max(whole[named], partial[named])  # "12 Main St, Springfield": the street part counts
        n = len(present) or 1
        entities: dict[str, float] = {}
        shares: dict[str, float] = {}
        source = partial if free_text else whole
        for entity, count in source.most_common():
            share = count / n
            if share < (0.0 if free_text else self.min_share):
                continue
            conf = share * statistics.fmean(scores[entity]) if not free_text else statistics.fmean(scores[entity])
            entities[entity], shares[entity] = conf, share
            kind = "hold" if free_text else "are"
            reasons.append(f"{share:.0%} of {len(present)} sampled values {kind} {entity} "
                           f"(mean score {statistics.fmean(scores[entity]):.2f})")  # fmt: skip
        if hint is not None and named is not None:
            prior = hint[2]
            if named in entities:
                entities[named] = 1 - (1 - entities[named]) * (1 - prior)
            else:  # a name the values do not bear out counts half, where the values could have shown it
                entities[named] = prior if not present or named not in _VALUE_DETECTABLE else prior / 2
                shares[named] = 0.0
        role = self._role(hint, entities, free_text)
        if free_text and hint is None:
            reasons.append(f"long multi-word values (median {self._median_len(present)} chars): free text")
        evidence = sorted(
            (EntityEvidence(e, min(1.0, c), shares.get(e, 0.0)) for e, c in entities.items()),
            key=lambda ev: -ev.confidence,
        )
        return ColumnProfile(
            name=name,
            dtype=dtype,
            role=role,
            entities=evidence,
            sampled=total,
            null_share=null_share,
            distinct_share=distinct,
            reasons=reasons,
            examples=[_masked(v) for v in present[:3]] if evidence or role != "other" else [],
        )

    def _evidence(self, name: str, present: list[str]) -> tuple[Counter[str], Counter[str], dict[str, list[float]]]:
        label = normalise(name).replace("_", " ") or "value"
        prefix = f"{label}: "
        texts = [prefix + v for v in present]
        whole: Counter[str] = Counter()
        partial: Counter[str] = Counter()
        scores: dict[str, list[float]] = {}
        for value, found in zip(present, self.detector.detect_many(texts), strict=True):
            core = len(value.strip()) or 1
            covered: dict[str, int] = {}
            for f in found:
                if f.start < len(prefix):
                    continue  # a finding in the column name itself
                covered[f.entity] = covered.get(f.entity, 0) + (f.end - f.start)
                scores.setdefault(f.entity, []).append(f.score)
            for entity, chars in covered.items():
                partial[entity] += 1
                if chars >= 0.8 * core:
                    whole[entity] += 1
        return whole, partial, scores

    def _is_free_text(self, present: list[str]) -> bool:
        lengths = sorted(len(v) for v in present)
        words = sorted(v.count(" ") + 1 for v in present)
        return lengths[len(lengths) // 2] >= self.free_text_chars and words[len(words) // 2] >= 5

    @staticmethod
    def _median_len(present: list[str]) -> int:
        return sorted(len(v) for v in present)[len(present) // 2]

    @staticmethod
    def _role(hint: tuple[str | None, Role, float] | None, entities: dict[str, float], free_text: bool) -> Role:
        if free_text:
            return "free_text"
        if hint is not None and hint[1] != "free_text":
            return hint[1]
        best = max(entities, key=lambda e: entities[e]) if entities else None
        if best in DIRECT:
            return "identifier"
        if best in QUASI:
            return "quasi_identifier"
        return "other"


# Types the text detector finds in a bare cell; for the others (IDs, ages, genders) the name is the evidence.
_VALUE_DETECTABLE = frozenset({
    "EMAIL_ADDRESS", "PHONE_NUMBER", "US_SSN", "CREDIT_CARD", "IBAN_CODE", "IP_ADDRESS", "UK_NHS",
})  # fmt: skip

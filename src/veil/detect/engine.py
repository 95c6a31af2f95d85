"""The Detector: regex tier (hyperscan-prefiltered recognizers), optional NER tier, lists, resolution."""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Literal

from veil.detect import models
from veil.detect.address import complete_addresses
from veil.detect.builtin import BUILTIN
from veil.detect.context import ContextScorer
from veil.detect.lists import AllowList, DenyList
from veil.detect.mentions import propagate
from veil.detect.ner import DEFAULT_MODEL, SpacyRecognizer, ner_available
from veil.detect.ner import LABELS as NER_LABELS
from veil.detect.prefilter import PatternSpec, Prefilter
from veil.detect.profiles import Profile, get_profile
from veil.detect.recognizer import PatternRecognizer
from veil.detect.resolve import resolve
from veil.errors import ConfigError, InputError
from veil.types import Finding

log = logging.getLogger(__name__)
NerMode = bool | Literal["auto"] | SpacyRecognizer

DEFAULT_THRESHOLD = 0.35


class Detector:
    """Finds personal data in text.

    ``ner``: ``"auto"`` uses spaCy when ``veil[ner]`` is installed, ``True`` requires it, ``False`` runs the
    regex tier only, or pass a configured :class:`SpacyRecognizer`. ``entities`` limits what is reported.
    ``thresholds`` sets a minimum score per entity (``default_threshold`` for the rest).
    ``prefilter=False`` runs every pattern on every text (same results, slower; for tests and debugging).
    ``propagate`` (default on) reports every other occurrence of a detected value in the same text.
    """

    def __init__(
        self,
        recognizers: Sequence[PatternRecognizer] | None = None,
        *,
        ner: NerMode = "auto",
        entities: Iterable[str] | None = None,
        thresholds: Mapping[str, float] | None = None,
        default_threshold: float = DEFAULT_THRESHOLD,
        allow: AllowList | Iterable[str] | None = None,
        deny: DenyList | Mapping[str, Iterable[str]] | None = None,
        context: ContextScorer | None = None,
        prefilter: bool = True,
        propagate: bool = True,
        profile: str | Profile = "general",
        model: str = DEFAULT_MODEL,
    ) -> None:
        self.profile = profile if isinstance(profile, Profile) else get_profile(profile)
        base = tuple(BUILTIN if recognizers is None else recognizers)
        taken = {r.name for r in base}
        self.recognizers = base + tuple(r for r in self.profile.recognizers if r.name not in taken)
        if model not in models.NAMES:
            raise ConfigError(f"unknown NER model '{model}'", hint=f"models: {', '.join(models.NAMES)}")
        self.model = model
        names = [r.name for r in self.recognizers]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ConfigError(f"recognizer names must be unique; repeated: {', '.join(dupes)}")
        self.entities = frozenset(entities) if entities is not None else None
        self.thresholds = dict(thresholds or {})
        for entity, value in [*self.thresholds.items(), ("default", default_threshold)]:
            if not 0.0 <= value <= 1.0:
                raise ConfigError(f"threshold for {entity} is {value}, not within 0..1")
        self.default_threshold = default_threshold
        self.allow = allow if isinstance(allow, AllowList) else AllowList(allow or ())
        self.deny = deny if isinstance(deny, DenyList) else DenyList(deny or {})
        if self.entities is not None:  # a typo would silently find nothing
            known = {r.entity for r in self.recognizers} | set(NER_LABELS.values()) | self.deny.entities
            unknown = sorted(self.entities - known)
            if unknown:
                raise ConfigError(f"unknown entity name(s): {', '.join(unknown)}",
                                  hint=f"entities: {', '.join(sorted(known))}")  # fmt: skip
        self.scorer = context or ContextScorer()
        self.propagate = propagate
        active = [r for r in self.recognizers if self.entities is None or r.entity in self.entities]
        self._index = [(r, i) for r in active for i in range(len(r.patterns))]
        self._prefilter = Prefilter(
            [PatternSpec(p.regex, p.re_flags) for r in active for p in r.patterns], enabled=prefilter
        )
        self.ner = self._make_ner(ner)

    def _make_ner(self, ner: NerMode) -> SpacyRecognizer | None:
        if isinstance(ner, SpacyRecognizer):
            return ner
        if ner == "auto":
            if not ner_available(self.model):
                log.info("veil[ner] not installed: running the regex tier only")
                return None
            ner = True
        if ner is True:
            rec = SpacyRecognizer(self.model, lower_case_names=self.profile.lower_case_names)
            if self.entities is not None and not rec.entities & self.entities:
                return None
            return rec
        return None

    @property
    def tiers(self) -> str:
        return "regex+ner" if self.ner is not None else "regex"

    def detect(self, text: str) -> list[Finding]:
        """Findings in ``text``, non-overlapping and sorted by offset."""
        return self.detect_many([text])[0]

    def detect_many(
        self,
        texts: Sequence[str],
        *,
        n_process: int = 1,
        chunk_size: int = 512,
        progress: Callable[[int], None] | None = None,
    ) -> list[list[Finding]]:
        """Findings for each text. ``n_process > 1`` (or 0 for all cores) splits the batch over processes."""
        for i, text in enumerate(texts):
            if not isinstance(text, str):
                raise InputError(f"text #{i} is {type(text).__name__}, not str")
        if n_process == 0:
            n_process = os.cpu_count() or 1
        if n_process < 0:
            raise ConfigError("n_process must be >= 0")
        if n_process > 1 and len(texts) > chunk_size:
            return self._detect_parallel(texts, n_process, chunk_size, progress)
        out: list[list[Finding]] = []
        for start in range(0, len(texts), chunk_size):
            out.extend(self._detect_batch(texts[start : start + chunk_size]))
            if progress is not None:
                progress(min(chunk_size, len(texts) - start))
        return out

    def _detect_batch(self, texts: Sequence[str]) -> list[list[Finding]]:
        ner = self.ner.find_many(texts) if self.ner is not None else None
        results = []
        for i, text in enumerate(texts):
            found = self._regex_tier(text)
            if self.profile.drop_clinical_terms:
                found = _not_clinical_addresses(found)
            if self.deny.size:
                found.extend(self.deny.find(text))
            if ner is not None:
                found.extend(_outside_streets(found, self._keep_ner(ner[i])))
            finished = self._finish(found)
            if self.propagate and finished:
                more = propagate(text, finished)
                if more:
                    finished = resolve([*finished, *more])
            results.append(complete_addresses(text, finished))
        return results

    def _regex_tier(self, text: str) -> list[Finding]:
        found: list[Finding] = []
        index, scorer, prefilter = self._index, self.scorer, self._prefilter
        plan = prefilter.plan(text)
        for idx in (*plan.whole, *plan.ends):
            rec, pattern = index[idx]
            matches = prefilter.finditer(idx, rec.compiled(pattern), text, plan)
            found.extend(rec.findings(pattern, text, matches, scorer))
        return found

    def _keep_ner(self, found: list[Finding]) -> list[Finding]:
        """The profile's filter on model finds. In clinical notes (upper case, abbreviations, names in lower case)
        a model find is kept only when the gazetteers know one of its words as a name or place and none of them
        is a common word or a clinical term: "PATIENT", "REMAINS", "GI" or "Foley" are not names."""
        if not self.profile.drop_clinical_terms:
            return found
        from veil.detect.gazetteers import confirmed

        return [f for f in found if confirmed(f.value)]

    def _finish(self, found: list[Finding]) -> list[Finding]:
        thresholds, default, entities = self.thresholds, self.default_threshold, self.entities
        kept = [
            f
            for f in found
            if f.score >= thresholds.get(f.entity, default)
            and (entities is None or f.entity in entities)
            and not (self.allow and self.allow.allows(f.value))
        ]
        return resolve(kept)

    def _detect_parallel(
        self, texts: Sequence[str], n_process: int, chunk_size: int, progress: Callable[[int], None] | None
    ) -> list[list[Finding]]:
        global _WORKER
        if "fork" not in mp.get_all_start_methods():  # pragma: no cover - Linux/macOS have fork
            return self.detect_many(texts, n_process=1, chunk_size=chunk_size, progress=progress)
        if self.ner is not None:
            self.ner._pipeline()  # load once in the parent; workers inherit it through fork
        _WORKER = self
        # At least 4 chunks per process, so that no worker idles while the last one finishes.
        size = max(16, min(chunk_size, -(-len(texts) // (4 * n_process))))
        batches = [list(texts[s : s + size]) for s in range(0, len(texts), size)]
        out: list[list[Finding]] = []
        try:
            with mp.get_context("fork").Pool(n_process) as pool:
                for batch_result in pool.imap(_work, batches):
                    out.extend(batch_result)
                    if progress is not None:
                        progress(len(batch_result))
        finally:
            _WORKER = None
        return out


def _outside_streets(found: list[Finding], ner: list[Finding]) -> list[Finding]:
    """Model finds that lie inside a street address the patterns found ("Julie Ways" in "5584 Julie Ways") are
    part of that address, not people or places of their own."""
    streets = [(f.start, f.end) for f in found if f.entity == "STREET_ADDRESS"]
    if not streets:
        return ner
    return [f for f in ner if not any(s <= f.start and f.end <= e for s, e in streets)]


def _not_clinical_addresses(found: list[Finding]) -> list[Finding]:
    """In clinical notes "10u reg SQ" or "37, ph 7.42. Dr" are doses and results, not streets."""
    from veil.detect.gazetteers import clinical_terms

    terms = clinical_terms()
    return [f for f in found if f.entity != "STREET_ADDRESS" or not _clinical_street(f.value.split(), terms)]


def _clinical_street(words: list[str], terms: frozenset[str]) -> bool:
    last = words[-1].strip(".,")
    shouting_abbreviation = len(last) <= 3 and not (last[:1].isupper() and last[1:].islower())  # "ST", "ct"
    return shouting_abbreviation or any(w.strip(".,-").lower() in terms for w in words)


_WORKER: Detector | None = None


def _work(batch: list[str]) -> list[list[Finding]]:
    assert _WORKER is not None
    return _WORKER._detect_batch(batch)

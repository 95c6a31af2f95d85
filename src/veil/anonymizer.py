"""The Anonymizer: detect -> policy -> transform, and ``restore`` for the reversible part.

Findings of all texts in a batch are grouped by operator and entity, so each operator runs once per batch
(pseudonymization: one vault call). ``restore`` finds the policy's tokens even when a model changed their case,
brackets or separators ("<PERSON_1>" -> "[person 1]") and replaces them with the original values.

Exactness: text that already *looks like* a token (``Person 1``, ``<EMAIL_ADDRESS_3>``) is itself pseudonymized
as ``VEIL_TOKEN``, so ``restore(anonymize(x)) == x`` for every input under a reversible policy.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from functools import cached_property

from veil.detect import Detector
from veil.detect.custom import build_detector
from veil.errors import IntegrityError, VeilError
from veil.policy import Policy, Rule
from veil.streaming import StreamRestorer
from veil.transform.base import Operator, TransformContext
from veil.transform.encrypt import FINDER as ENCRYPTED
from veil.transform.encrypt import NotEncrypted, decrypt
from veil.transform.pseudonymize import Pseudonymize
from veil.types import Explanation, Finding
from veil.vault import DEFAULT_FORMAT, TokenFormat, Vault

LOOKALIKE = "VEIL_TOKEN"


@dataclass(frozen=True, slots=True)
class Applied:
    """What was done to one finding (offsets refer to the original text)."""

    entity: str
    start: int
    end: int
    operator: str
    replacement: str
    score: float
    recognizer: str


@dataclass(frozen=True, slots=True)
class Anonymized:
    text: str
    items: tuple[Applied, ...]


def detector_for(policy: Policy) -> Detector:
    d = policy.detection
    return build_detector(
        d.recognizers,
        ner=d.ner,
        entities=d.entities,
        default_threshold=d.threshold,
        thresholds=d.thresholds,
        allow=d.allow,
        deny=d.deny,
        profile=d.profile,
        model=d.model,
    )


class Anonymizer:
    def __init__(self, policy: Policy, *, vault: Vault | None = None, detector: Detector | None = None) -> None:
        self.policy = policy
        self._vault = vault
        self.detector = detector or detector_for(policy)
        self._operators: dict[tuple[str, str | None], Operator] = {}

    @cached_property
    def vault(self) -> Vault:
        return self._vault or Vault()

    @cached_property
    def context(self) -> TransformContext:
        return TransformContext(vault=self.vault, scope=self.policy.scope, locale=self.policy.locale)

    def _operator(self, entity: str, purpose: str | None) -> Operator:
        key = (entity, purpose)
        op = self._operators.get(key)
        if op is None:
            op = self.policy.rule_for(entity, purpose).build()
            self._operators[key] = op
        return op

    # -- token formats in use --------------------------------------------------------------------------
    @cached_property
    def _formats(self) -> list[TokenFormat]:
        rules = [self.policy.default, *self.policy.entities.values()]
        found = {TokenFormat(DEFAULT_FORMAT)}
        for rule in rules:
            if rule.operator == "pseudonymize":
                found.add(TokenFormat(str(rule.params.get("format", DEFAULT_FORMAT))))
        return sorted(found, key=lambda f: f.template)

    @cached_property
    def _entity_names(self) -> dict[str, str]:
        names = {r.entity for r in self.detector.recognizers} | set(self.policy.entities) | {LOOKALIKE}
        names |= {"PERSON", "LOCATION", "ORGANIZATION", "NRP"}
        return {n.replace("_", "").upper(): n for n in names}

    @cached_property
    def _finders(self) -> list[tuple[TokenFormat, re.Pattern[str]]]:
        entities = sorted(set(self._entity_names.values()))
        return [(f, f.finder(entities)) for f in self._formats]

    @cached_property
    def _has_reversible_rules(self) -> bool:
        """Only then can restore run, and only then do token look-alikes matter."""
        rules = [self.policy.default, *self.policy.entities.values()]
        return any(r.operator in ("pseudonymize", "encrypt") for r in rules)

    @cached_property
    def _maybe_token(self) -> re.Pattern[str]:
        """A cheap test every token (and enc: value) passes: a digit, or a run of hex digits."""
        hex_run = min((f.hash_length for f in self._formats if f.hash_length), default=0)
        return re.compile(rf"\d|[0-9a-fA-F]{{{hex_run}}}|enc:") if hex_run else re.compile(r"\d|enc:")

    # -- anonymize -------------------------------------------------------------------------------------
    def anonymize(self, text: str, purpose: str | None = None) -> Anonymized:
        return self.anonymize_many([text], purpose)[0]

    def anonymize_many(self, texts: list[str], purpose: str | None = None, *, n_process: int = 1) -> list[Anonymized]:
        if purpose is not None:
            self.policy.purpose(purpose)  # unknown purpose: a clear error before any work
        found = self.detector.detect_many(texts, n_process=n_process)
        return self.apply(texts, found, purpose)

    def _lookalikes(self, text: str) -> list[Finding]:
        if not self._has_reversible_rules or not self._maybe_token.search(text):
            return []
        out = []
        for finder in [*(f for _, f in self._finders), ENCRYPTED]:
            for m in finder.finditer(text):
                out.append(
                    Finding(
                        LOOKALIKE,
                        m.start(),
                        m.end(),
                        1.0,
                        m.group(),
                        Explanation(recognizer="token_lookalike", base_score=1.0),
                    )
                )
        return out

    def apply(self, texts: list[str], findings: list[list[Finding]], purpose: str | None = None) -> list[Anonymized]:
        """Apply the policy to given findings (one list per text)."""
        from veil.detect.resolve import resolve

        per_text: list[list[Finding]] = []
        for text, fs in zip(texts, findings, strict=True):
            fs = self._run_ons(text, fs)
            look = self._lookalikes(text)
            per_text.append(resolve([*fs, *look]) if look else fs)
        groups: dict[tuple[str, str], list[tuple[int, int]]] = defaultdict(list)
        for ti, fs in enumerate(per_text):
            for fi, f in enumerate(fs):
                groups[(f.entity, "lookalike" if f.entity == LOOKALIKE else "policy")].append((ti, fi))
        replaced: dict[tuple[int, int], tuple[str, str]] = {}
        for (entity, kind), refs in groups.items():
            op: Operator = Pseudonymize() if kind == "lookalike" else self._operator(entity, purpose)
            values = [per_text[ti][fi].value for ti, fi in refs]
            outs = op.apply_many(values, entity, self.context)
            for ref, out in zip(refs, outs, strict=True):
                replaced[ref] = (out, op.name)
        results = []
        for ti, (text, fs) in enumerate(zip(texts, per_text, strict=True)):
            chosen = [replaced[(ti, fi)] for fi in range(len(fs))]
            out, fs, chosen = self._make_restorable(text, fs, chosen)
            items = tuple(
                Applied(f.entity, f.start, f.end, name, rep, f.score, f.recognizer)
                for f, (rep, name) in zip(fs, chosen, strict=True)
            )
            results.append(Anonymized(out, items))
        return results

    def _run_ons(self, text: str, fs: list[Finding]) -> list[Finding]:
        """Findings in the text that runs on from a finding with no boundary between ("...7654 32GB82 WEST...").

        Such text only becomes detectable once the finding beside it is replaced; it is detected now, on its
        own, so that no replacement uncovers a value it left in place.
        """
        from veil.detect.resolve import resolve

        n = len(text)
        for _ in range(4):
            # a gap starts where a finding ends (or at 0) and ends where one starts (or at the end)
            gaps = [
                (a, b)
                for a, b in _gaps(fs, n)
                if (0 < a < n and text[a - 1].isalnum() and text[a].isalnum())
                or (0 < b < n and text[b - 1].isalnum() and text[b].isalnum())
            ]
            if not gaps:
                return fs
            found = self.detector.detect_many([text[a:b] for a, b in gaps])
            new = [replace(f, start=f.start + a, end=f.end + a) for (a, _), got in zip(gaps, found, strict=True)
                   for f in got]  # fmt: skip
            if not new:
                return fs
            fs = resolve([*fs, *new])
        return fs

    def _make_restorable(
        self, text: str, fs: list[Finding], chosen: list[tuple[str, str]]
    ) -> tuple[str, list[Finding], list[tuple[str, str]]]:
        """The output text, made so that ``restore`` finds exactly the tokens that were put in.

        Two things can break that: a token without brackets running into the text next to it ("...1111A"), and
        original text that becomes token-like only beside a replacement ("<CREDIT_CARD_1>EMAIL_ADDRESS-1").
        The first gets brackets, the second is pseudonymized as a look-alike too.
        """
        reversible = ("pseudonymize", "encrypt")
        for _ in range(4):
            out, spans, gaps = _assemble(text, fs, chosen)
            if not any(name in reversible for _, name in chosen):
                return out, fs, chosen  # nothing reversible was written: restore has nothing to find
            found = {(s, e): tok for s, e, _, tok in self._spans(out)}
            expected: set[tuple[int, int]] = set()
            bad = []
            for fi, ((start, end), (rep, name)) in enumerate(zip(spans, chosen, strict=True)):
                if name not in reversible:
                    continue
                expected.add((start, end))
                unwrapped = rep[1:-1] if rep.startswith("<") and rep.endswith(">") else rep
                if found.get((start, end)) not in (rep, unwrapped):
                    bad.append(fi)
            extras = [_to_original(s, e, gaps) for (s, e) in found if (s, e) not in expected]
            if not bad and not extras:
                return out, fs, chosen
            for fi in bad:  # "<token>": a bracket cannot run into the text around it
                rep, name = chosen[fi]
                chosen[fi] = (rep if rep.startswith("<") else f"<{rep}>", name)
            new = [x for x in extras if x is not None]
            if new:
                why = Explanation(recognizer="token_lookalike", base_score=1.0)
                look = [Finding(LOOKALIKE, s, e, 1.0, text[s:e], why) for s, e in new]
                tokens = Pseudonymize().apply_many([f.value for f in look], LOOKALIKE, self.context)
                added = [(f, (t, "pseudonymize")) for f, t in zip(look, tokens, strict=True)]
                merged = sorted([*zip(fs, chosen, strict=True), *added], key=lambda pair: pair[0].start)
                fs = [f for f, _ in merged]
                chosen = [c for _, c in merged]
        raise VeilError(
            "cannot write restorable tokens for this text: they run into the text around them",
            hint="use a bracketed token format such as '<{entity}_{n}>'",
        )

    def stream_restorer(self, *, audit: bool = True, restore: Callable[[str], str] | None = None) -> StreamRestorer:
        """A restorer for an answer that arrives in pieces (server-sent events); ``restore`` replaces the vault
        look-up (the guard restores from the call's own tokens)."""
        finders = [rx.pattern for _, rx in self._finders] + [ENCRYPTED.pattern]
        starts = "<[({«e" + "".join({n[0] for n in self._entity_names.values()})
        starts += "".join(f.template[0] for f in self._formats if f.template[:1].isalnum())
        return StreamRestorer(restore or (lambda t: self.restore(t, audit=audit)), finders, starts)

    def tokens_in(self, replacement: str) -> list[str]:
        """The canonical tokens (and ``enc:`` values) ``restore`` would act on in a replacement it wrote."""
        return [sp[3] for sp in self._spans(replacement)]

    def _spans(self, text: str) -> list[tuple[int, int, str, str]]:
        """Token-like spans ``restore`` acts on: (start, end, "token" | "enc", canonical token)."""
        spans: list[tuple[int, int, str, str, bool]] = []
        if not self._maybe_token.search(text):
            return []
        for fmt, finder in self._finders:
            for m in finder.finditer(text):
                token = fmt.canonical(m, self._entity_names)
                if token is not None:
                    inexact = _bare(token) != _bare(m.group())
                    spans.append((m.start(), m.end(), "token", token, inexact))
        for m in ENCRYPTED.finditer(text):
            spans.append((m.start(), m.end(), "enc", m.group(), False))
        # longest first; where two formats read the same text ("PHONE_NUMBER-1318226262" is also a tolerant
        # "<{entity}_{n}>"), the one that wrote it exactly wins
        spans.sort(key=lambda s: (s[0], -(s[1] - s[0]), s[4]))
        chosen: list[tuple[int, int, str, str]] = []
        last = -1
        for start, end, kind, token, _ in spans:
            if start >= last:
                chosen.append((start, end, kind, token))
                last = end
        return chosen

    def restore(
        self,
        text: str,
        *,
        audit: bool = True,
        known: Mapping[str, str] | None = None,
        on_foreign: Callable[[str], None] | None = None,
        actor: str = "local",
    ) -> str:
        """Replace tokens (pseudonyms, ``enc:`` values) with the originals; unknown tokens stay as they are.

        ``audit=False`` is for callers that write their own audit record for the same action (the guard).
        ``known``: restore only these tokens (token -> original), without reading the vault (the guard: a call
        restores only what its request held). Every token left as it is is reported to ``on_foreign``.
        """
        chosen = self._spans(text)
        if not chosen:
            return text
        values: dict[str, str] = {}
        if known is None:
            wanted = [s[3] for s in chosen if s[2] == "token"]
            values = self.vault.detokenize_many(self.policy.scope, wanted, audit=audit, actor=actor)
        parts, pos = [], 0
        for start, end, kind, token in chosen:
            if known is not None:
                original = known.get(token)
            elif kind == "token":
                original = values.get(token)
            else:
                try:
                    original = decrypt(token, self.context)
                except NotEncrypted:
                    original = None  # a look-alike, not one of ours
                except IntegrityError:  # one of ours, changed: fail loudly rather than hand back a ciphertext
                    raise IntegrityError(
                        f"the encrypted value at character {start} failed its integrity check: changed, truncated, "
                        "or sealed with another key"
                    ) from None
            if original is None:
                if on_foreign is not None:
                    on_foreign(token)
                continue
            parts.append(text[pos:start])
            parts.append(original)
            pos = end
        parts.append(text[pos:])
        return "".join(parts)


Gap = tuple[int, int, int]  # output start, output end, original start of a piece of unchanged text


def _assemble(
    text: str, fs: list[Finding], chosen: list[tuple[str, str]]
) -> tuple[str, list[tuple[int, int]], list[Gap]]:
    """The output text, where each replacement landed in it, and where the unchanged text landed."""
    parts: list[str] = []
    spans: list[tuple[int, int]] = []
    gaps: list[Gap] = []
    pos = 0
    length = 0
    for f, (rep, _) in zip(fs, chosen, strict=True):
        gap = text[pos : f.start]
        gaps.append((length, length + len(gap), pos))
        parts.append(gap)
        length += len(gap)
        parts.append(rep)
        spans.append((length, length + len(rep)))
        length += len(rep)
        pos = f.end
    gaps.append((length, length + len(text) - pos, pos))
    parts.append(text[pos:])
    return "".join(parts), spans, gaps


def _gaps(fs: list[Finding], length: int) -> list[tuple[int, int]]:
    """The stretches of text between sorted, non-overlapping findings."""
    out, pos = [], 0
    for f in fs:
        if f.start > pos:
            out.append((pos, f.start))
        pos = max(pos, f.end)
    if pos < length:
        out.append((pos, length))
    return out


def _bare(token: str) -> str:
    """A token without the brackets around it."""
    return token.strip("<>[](){}« »")


def _to_original(start: int, end: int, gaps: list[Gap]) -> tuple[int, int] | None:
    """Original offsets of an output span lying inside unchanged text (None if it touches a replacement)."""
    for g_start, g_end, orig in gaps:
        if g_start <= start and end <= g_end:
            return orig + start - g_start, orig + end - g_start
    return None


def rule_summary(rule: Rule) -> str:
    params = ", ".join(f"{k}={v!r}" for k, v in rule.params.items())
    return f"{rule.operator}({params})" if params else rule.operator

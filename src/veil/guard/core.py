"""What the guard does to one model call, shared by the proxy and the in-process client wrapper.

Request: every piece of content of the body (:mod:`veil.guard.fields`: strings at any depth, numbers, odd keys;
escaped forms such as ``ann%40example.com`` included) is pseudonymized with the policy in one batched call; a
request holding a blocked entity (secrets by default) is refused with a ``PolicyViolation``. The call keeps the
tokens its own request produced, with their originals: that is all it may restore. Answer: the same walk
restores those tokens in every field (any other token stays as it is and is counted as foreign: a cross-call
leak attempt), then scans what it restored for personal data that was not in the prompt (a leak); the output
action masks it, blocks the answer, or only flags it. Every call leaves one audit record with counts, never values.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from veil.anonymizer import Anonymizer
from veil.detect.encoded import decode, detect_encoded
from veil.errors import ConfigError, VeilError
from veil.guard import fields
from veil.policy import Policy
from veil.streaming import StreamRestorer
from veil.transform.base import TransformContext
from veil.transform.mask import Mask
from veil.vault.audit import BufferedAudit

_MASK = Mask({"char": "*"})
REVERSIBLE = ("pseudonymize", "encrypt")


class PolicyViolation(VeilError):
    """A request or answer the guard policy does not allow (HTTP 400 / 422)."""

    code = "VEIL-510"


class UpstreamError(VeilError):
    """The model's answer cannot be read safely (a broken stream chunk, nesting beyond the bound)."""

    code = "VEIL-520"


@dataclass
class Call:
    """One model call: who made it, what was found and done, and the tokens it may restore (with originals)."""

    request_id: str
    path: str = ""
    scope: str = "default"
    actor: str = "open"
    purpose: str | None = None
    subject: str = ""  # the data subject the call is about (its keyed id), when the caller tagged one
    found: Counter[str] = field(default_factory=Counter)
    leaks: Counter[str] = field(default_factory=Counter)
    foreign: int = 0
    originals: dict[str, str] = field(default_factory=dict)
    prompt_values: set[str] = field(default_factory=set)
    prompt_text: str = ""
    prompt_plain: str = ""  # the prompt with escapes undone (leaks written in another encoding)
    blocked: str = ""
    withheld: set[str] = field(default_factory=set)  # the call's own tokens the policy does not restore

    def count_foreign(self, token: str) -> None:
        if token not in self.withheld:
            self.foreign += 1


ConsentCheck = Callable[[str, str, str], str]


class Guard:
    """``consent``: called with (subject identifier, purpose, actor) for a call tagged with a data subject; returns
    the subject's id, or raises :class:`AccessDenied` (governance's ledger: ``veil.governance.enforce``)."""

    def __init__(
        self, policy: Policy, anonymizer: Anonymizer | None = None, *, consent: ConsentCheck | None = None
    ) -> None:
        self.policy = policy
        self.consent = consent
        self.anonymizer = anonymizer or Anonymizer(policy)
        if self.anonymizer.detector.ner is not None:
            self.anonymizer.detector.ner.share_batches()  # concurrent requests share nlp.pipe batches
        self.blocked = frozenset(policy.guard.block)
        self._audit_log: BufferedAudit | None = None
        self._out_entities = set(policy.guard.output.entities) if policy.guard.output.entities else None
        self._scoped: dict[str, Anonymizer] = {self.anonymizer.policy.scope: self.anonymizer}

    @property
    def max_depth(self) -> int:
        return self.policy.guard.max_depth

    def new_call(
        self,
        request_id: str | None = None,
        *,
        path: str = "",
        scope: str | None = None,
        actor: str = "open",
        purpose: str | None = None,
        subject: str | None = None,
    ) -> Call:
        if purpose is not None:
            self.policy.purpose(purpose)  # unknown purpose: a ConfigError before any work
        call = Call(request_id or uuid.uuid4().hex, path, scope or self.policy.scope, actor, purpose)
        if subject:
            call.subject = self.check_subject(subject, purpose, actor)
        return call

    def check_subject(self, subject: str, purpose: str | None, actor: str) -> str:
        """The subject's id if the call may process their data for ``purpose``; refused (and audited) if not."""
        if purpose is None:
            raise ConfigError("a call about a data subject must declare its purpose (x-veil-purpose)")
        if self.consent is None:
            raise ConfigError("this guard has no consent ledger: it cannot take calls tagged with a data subject")
        return self.consent(subject, purpose, actor)

    def anonymizer_for(self, scope: str) -> Anonymizer:
        """The anonymizer of a tenant's scope: same detector and vault, its own keys and token sequences."""
        found = self._scoped.get(scope)
        if found is None:
            policy = self.anonymizer.policy.model_copy(update={"scope": scope})
            found = Anonymizer(policy, vault=self.anonymizer.vault, detector=self.anonymizer.detector)
            self._scoped[scope] = found
        return found

    def warm_up(self) -> None:
        """Load the recognizers and the NER model now, so the first call does not wait for them."""
        self.anonymizer.detector.detect_many(["Warm-up: Maria Gonzalez, maria@example.org, +1 415 555 0173."])

    # -- request -------------------------------------------------------------------------------------------
    def protect_request(self, body: dict[str, Any], path: str, call: Call) -> dict[str, Any]:
        """Pseudonymize every piece of content of the request body in place (and return it); refuse blocked
        entities before anything is written to the vault."""
        slots = fields.slots(body, fields.shape("requests", path), numbers=True, max_depth=self.max_depth)
        texts = [s.text for s in slots]
        anonymizer = self.anonymizer_for(call.scope)
        findings = detect_encoded(anonymizer.detector, texts)
        for fs in findings:
            for f in fs:
                call.found[f.entity] += 1
                call.prompt_values.add(f.value)
        hit = sorted({f.entity for fs in findings for f in fs} & self.blocked)
        if hit:
            call.blocked = ",".join(hit)
            self._audit(call, "blocked")
            raise PolicyViolation(f"request refused: it contains {', '.join(hit)} (blocked by the guard policy)")
        call.prompt_text = "\n".join(texts)
        call.prompt_plain = decode(call.prompt_text)
        results = anonymizer.apply(texts, findings, call.purpose)  # token look-alikes are pseudonymized too
        for text, result in zip(texts, results, strict=True):
            for item in result.items:
                if item.operator in REVERSIBLE:
                    for token in anonymizer.tokens_in(item.replacement):
                        if self._restores(item.entity):
                            call.originals[token] = text[item.start : item.end]
                        else:
                            call.withheld.add(token)
        fields.write_back(slots, [r.text for r in results])
        return self._instruct(body, path)

    def _restores(self, entity: str) -> bool:
        rule = self.policy.guard.restore
        return rule == "all" or (isinstance(rule, list) and entity in rule)

    def _instruct(self, body: dict[str, Any], path: str) -> dict[str, Any]:
        """The policy's privacy instruction, first in a chat call's messages (or a Responses call's instructions)."""
        prompt = self.policy.guard.system_prompt
        if not prompt:
            return body
        if path.endswith("/chat/completions") and isinstance(body.get("messages"), list):
            body["messages"] = [{"role": "system", "content": prompt}, *body["messages"]]
        elif path.endswith("/responses"):
            given = body.get("instructions")
            body["instructions"] = f"{prompt}\n\n{given}" if isinstance(given, str) and given else prompt
        return body

    # -- answer --------------------------------------------------------------------------------------------
    def restore(self, text: str, call: Call) -> str:
        """The call's own tokens back to originals (no vault read); any other token stays and is counted."""
        return self.anonymizer_for(call.scope).restore(text, known=call.originals, on_foreign=call.count_foreign)

    def restore_text(self, text: str, call: Call) -> str:
        return self.scan_output(self.restore(text, call), call)

    def stream_restorer(self, call: Call) -> StreamRestorer:
        return self.anonymizer_for(call.scope).stream_restorer(restore=lambda t: self.restore(t, call))

    def restore_body(self, body: Any, path: str, call: Call) -> Any:
        """Restore and leak-scan every piece of content of a whole answer (or error body) in place."""
        slots = fields.slots(body, fields.shape("answers", path), numbers=False, max_depth=self.max_depth)
        fields.write_back(slots, [self.restore_text(slot.text, call) for slot in slots])
        return body

    def _is_leak(self, value: str, call: Call) -> bool:
        if value in call.prompt_values or value in call.prompt_text:
            return False
        plain = decode(value)
        return plain not in call.prompt_plain

    def scan_output(self, text: str, call: Call, *, streaming: bool = False, context: str = "") -> str:
        """Apply the output action to personal data in ``text`` that the prompt did not contain.

        ``streaming``: the text is a piece of an answer already being sent, which cannot be withheld, so the
        action ``block`` masks instead. ``context``: text sent just before ``text`` (read for context words;
        only findings that start in ``text`` are acted on).
        """
        if not text:
            return text
        offset = len(context)
        detector = self.anonymizer.detector
        leaks = [
            replace(f, start=f.start - offset, end=f.end - offset)
            for f in detect_encoded(detector, [context + text])[0]
            if f.start >= offset
            and (self._out_entities is None or f.entity in self._out_entities)
            and self._is_leak(f.value, call)
        ]
        if not leaks:
            return text
        for f in leaks:
            call.leaks[f.entity] += 1
        action = self.policy.guard.output.action
        if action == "block" and not streaming:
            raise PolicyViolation(f"answer withheld: it contains personal data not in the prompt ({leaks[0].entity})")
        if action == "flag":
            return text
        out, pos = [], 0
        ctx = TransformContext()
        for f in leaks:
            out.append(text[pos : f.start])
            out.append(_MASK.apply_many([f.value], f.entity, ctx)[0])
            pos = f.end
        out.append(text[pos:])
        return "".join(out)

    def finish(self, call: Call, status: int) -> None:
        self._audit(call, "ok" if status < 400 else f"http {status}")

    @property
    def audit(self) -> BufferedAudit:
        """Per-call records go through a buffered writer: the chain stays whole, a call never waits on it."""
        if self._audit_log is None:
            self._audit_log = BufferedAudit(self.anonymizer.vault.audit)
        return self._audit_log

    def _audit(self, call: Call, result: str) -> None:
        self.audit.append(
            call.actor,
            "guard.request",
            result=result,
            scope=call.scope,
            purpose=call.purpose or "",
            subject=call.subject,
            request_id=call.request_id,
            path=call.path,
            found=dict(call.found),
            leaks=dict(call.leaks),
            foreign_tokens=call.foreign,
            blocked=call.blocked,
        )

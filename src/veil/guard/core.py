"""What the guard does to one model call, shared by the proxy and the in-process client wrapper.

Request: every message text (string content, text parts, tool-call arguments), completion prompt and embedding
input is pseudonymized with the policy (one batched call); a request holding a blocked entity (secrets by
default) is refused with a ``PolicyViolation``. Answer: tokens are restored, then the restored answer is scanned
for personal data that was not in the prompt (a leak); the output action masks it, blocks the answer, or only
flags it. Every call leaves one audit record with counts, never values.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any

from veil.anonymizer import Anonymizer
from veil.errors import VeilError
from veil.policy import Policy
from veil.streaming import StreamRestorer
from veil.transform.base import TransformContext
from veil.transform.mask import Mask
from veil.vault.audit import BufferedAudit

_MASK = Mask({"char": "*"})


class PolicyViolation(VeilError):
    """A request or answer the guard policy does not allow (HTTP 400 / 422)."""

    code = "VEIL-510"


@dataclass
class Call:
    """One model call: request id, what was found and done, the prompt's personal data (for the leak scan)."""

    request_id: str
    found: Counter[str] = field(default_factory=Counter)
    leaks: Counter[str] = field(default_factory=Counter)
    prompt_values: set[str] = field(default_factory=set)
    prompt_text: str = ""
    blocked: str = ""


def _text_slots(body: dict[str, Any], path: str) -> list[tuple[Any, Any]]:
    """(container, key) pairs of every string the guard must anonymize in a request body."""
    slots: list[tuple[Any, Any]] = []
    if path.endswith("/chat/completions"):
        for msg in body.get("messages") or []:
            if not isinstance(msg, dict):
                continue
            content = msg.get("content")
            if isinstance(content, str):
                slots.append((msg, "content"))
            elif isinstance(content, list):
                slots.extend(
                    (part, "text") for part in content if isinstance(part, dict) and isinstance(part.get("text"), str)
                )
            for call in msg.get("tool_calls") or []:
                fn = call.get("function") if isinstance(call, dict) else None
                if isinstance(fn, dict) and isinstance(fn.get("arguments"), str):
                    slots.append((fn, "arguments"))
    elif path.endswith("/completions") or path.endswith("/embeddings"):
        key = "prompt" if path.endswith("/completions") else "input"
        value = body.get(key)
        if isinstance(value, str):
            slots.append((body, key))
        elif isinstance(value, list):
            slots.extend((value, i) for i, v in enumerate(value) if isinstance(v, str))
    return slots


class Guard:
    def __init__(self, policy: Policy, anonymizer: Anonymizer | None = None) -> None:
        self.policy = policy
        self.anonymizer = anonymizer or Anonymizer(policy)
        if self.anonymizer.detector.ner is not None:
            self.anonymizer.detector.ner.share_batches()  # concurrent requests share nlp.pipe batches
        self.blocked = frozenset(policy.guard.block)
        self._audit_log: BufferedAudit | None = None
        self._out_entities = set(policy.guard.output.entities) if policy.guard.output.entities else None

    def new_call(self, request_id: str | None = None) -> Call:
        return Call(request_id or uuid.uuid4().hex)

    # -- request -------------------------------------------------------------------------------------------
    def protect_request(self, body: dict[str, Any], path: str, call: Call) -> dict[str, Any]:
        """Pseudonymize the request body in place (and return it); refuse blocked entities."""
        slots = _text_slots(body, path)
        texts = [container[key] for container, key in slots]
        findings = self.anonymizer.detector.detect_many(texts)
        for fs in findings:
            for f in fs:
                call.found[f.entity] += 1
                call.prompt_values.add(f.value)
        hit = sorted({f.entity for fs in findings for f in fs} & self.blocked)
        if hit:
            call.blocked = ",".join(hit)
            self._audit(call, path, "blocked")
            raise PolicyViolation(f"request refused: it contains {', '.join(hit)} (blocked by the guard policy)")
        call.prompt_text = "\n".join(texts)
        for (container, key), result in zip(slots, self.anonymizer.apply(texts, findings), strict=True):
            container[key] = result.text
        return body

    # -- answer --------------------------------------------------------------------------------------------
    def restore_text(self, text: str, call: Call) -> str:
        return self.scan_output(self.restore(text), call)

    def restore(self, text: str) -> str:
        """Tokens back to originals; the call's own audit record covers it (no second record per call)."""
        return self.anonymizer.restore(text, audit=False)

    def stream_restorer(self) -> StreamRestorer:
        return self.anonymizer.stream_restorer(audit=False)

    def scan_output(self, text: str, call: Call, *, streaming: bool = False, context: str = "") -> str:
        """Apply the output action to personal data in ``text`` that the prompt did not contain.

        ``streaming``: the text is a piece of an answer already being sent, which cannot be withheld, so the
        action ``block`` masks instead. ``context``: text sent just before ``text`` (read for context words;
        only findings that start in ``text`` are acted on).
        """
        if not text:
            return text
        offset = len(context)
        leaks = [
            replace(f, start=f.start - offset, end=f.end - offset)
            for f in self.anonymizer.detector.detect(context + text)
            if f.start >= offset
            and f.value not in call.prompt_values
            and f.value not in call.prompt_text
            and (self._out_entities is None or f.entity in self._out_entities)
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

    def restore_response(self, body: dict[str, Any], path: str, call: Call) -> dict[str, Any]:
        """Restore (and leak-scan) a non-streamed response body in place."""
        for choice in body.get("choices") or []:
            if not isinstance(choice, dict):
                continue
            msg = choice.get("message")
            if isinstance(msg, dict):
                if isinstance(msg.get("content"), str):
                    msg["content"] = self.restore_text(msg["content"], call)
                for tc in msg.get("tool_calls") or []:
                    fn = tc.get("function") if isinstance(tc, dict) else None
                    if isinstance(fn, dict) and isinstance(fn.get("arguments"), str):
                        fn["arguments"] = self.restore(fn["arguments"])
            if isinstance(choice.get("text"), str):
                choice["text"] = self.restore_text(choice["text"], call)
        return body

    def finish(self, call: Call, path: str, status: int) -> None:
        self._audit(call, path, "ok" if status < 400 else f"http {status}")

    @property
    def audit(self) -> BufferedAudit:
        """Per-call records go through a buffered writer: the chain stays whole, a call never waits on it."""
        if self._audit_log is None:
            self._audit_log = BufferedAudit(self.anonymizer.vault.audit)
        return self._audit_log

    def _audit(self, call: Call, path: str, result: str) -> None:
        self.audit.append(
            "guard",
            "guard.request",
            result=result,
            scope=self.policy.scope,
            request_id=call.request_id,
            path=path,
            found=dict(call.found),
            leaks=dict(call.leaks),
            blocked=call.blocked,
        )


class AnswerStream:
    """The restorers of one streamed answer, one per choice, shared by the proxy and the client wrapper.

    Restored text is sent up to its last whitespace, so the leak scan always sees whole words; each piece is
    scanned with the tail of what was sent before it. A value spanning several words (a phone number with
    spaces) can still be split between two pieces. Whole (non-streamed) answers are scanned in one go.
    """

    CONTEXT = 120

    def __init__(self, guard: Guard, call: Call) -> None:
        self._guard = guard
        self._call = call
        self._restorers: dict[int, StreamRestorer] = {}
        self._pending: dict[int, str] = {}
        self._sent: dict[int, str] = {}

    def piece(self, index: int, text: str | None, finished: bool) -> str | None:
        """What to send now for choice ``index`` (``None``: the chunk carried no text and nothing is due)."""
        restorer = self._restorers.setdefault(index, self._guard.stream_restorer())
        pending = self._pending.get(index, "") + (restorer.feed(text) if text else "")
        if finished:
            pending += restorer.flush()
            cut = len(pending)
        else:
            cut = max(pending.rfind(" "), pending.rfind("\n"), pending.rfind("\t")) + 1
        out, self._pending[index] = pending[:cut], pending[cut:]
        if not out:
            return None if text is None else ""
        return self._send(index, out)

    def _send(self, index: int, out: str) -> str:
        sent = self._sent.get(index, "")
        scanned = self._guard.scan_output(out, self._call, streaming=True, context=sent)
        self._sent[index] = (sent + scanned)[-self.CONTEXT :]
        return scanned

    def rest(self) -> dict[int, str]:
        """Text still held back per choice at the end of the stream (restored and scanned)."""
        out = {}
        for index, restorer in self._restorers.items():
            held = self._pending.pop(index, "") + restorer.flush()
            if held:
                out[index] = self._send(index, held)
        return out

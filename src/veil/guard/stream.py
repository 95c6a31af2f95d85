"""Streamed answers: every field that arrives in pieces is restored and leak-scanned, each on its own channel.

A channel is one growing text: a choice's ``delta.content``, its ``refusal`` or reasoning text, one tool call's
``function.arguments``, or (Responses API) one item's ``output_text`` / ``function_call_arguments`` deltas. Each
has its own restorer (a token split over chunks is held back until it is whole) and its own scan context. Text
is released up to its last whitespace so the leak scan sees whole words; what is held back is sent with the
choice's ``finish_reason`` chunk, before a Responses ``*.done`` event, or at the end of the stream. Chunks are
validated: a chunk the guard cannot read safely ends the stream with an OpenAI-style error event.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Hashable, Iterator
from dataclasses import dataclass, field
from typing import Any

from veil.guard import fields
from veil.guard.core import Call, Guard
from veil.streaming import StreamRestorer

RESPONSES = "/v1/responses"
_ID_FIELDS = ("item_id", "output_index", "content_index", "summary_index")
_BINARY_DELTAS = (".audio.delta",)  # base64 audio: nothing to restore or scan


class ChunkError(ValueError):
    """An upstream stream chunk the guard cannot read safely."""


class AnswerStream:
    """The restorers of one streamed answer, one per channel, shared by the proxy and the client wrapper."""

    CONTEXT = 120
    MAX_HELD = 4096  # a piece with no whitespace is released at this length (bounded memory)

    def __init__(self, guard: Guard, call: Call) -> None:
        self._guard = guard
        self._call = call
        self._restorers: dict[Hashable, StreamRestorer] = {}
        self._pending: dict[Hashable, str] = {}
        self._sent: dict[Hashable, str] = {}

    def piece(self, channel: Hashable, text: str) -> str:
        """What to send now on ``channel`` for a new piece of it (possibly nothing yet: "")."""
        restorer = self._restorers.get(channel)
        if restorer is None:
            restorer = self._restorers[channel] = self._guard.stream_restorer(self._call)
        pending = self._pending.get(channel, "") + (restorer.feed(text) if text else "")
        cut = max(pending.rfind(" "), pending.rfind("\n"), pending.rfind("\t")) + 1
        if not cut and len(pending) > self.MAX_HELD:
            cut = len(pending)
        out, self._pending[channel] = pending[:cut], pending[cut:]
        return self._send(channel, out) if out else ""

    def _send(self, channel: Hashable, out: str) -> str:
        sent = self._sent.get(channel, "")
        scanned = self._guard.scan_output(out, self._call, streaming=True, context=sent)
        self._sent[channel] = (sent + scanned)[-self.CONTEXT :]
        return scanned

    def channels(self) -> list[Any]:
        return list(self._restorers)

    def rest(self, channel: Hashable) -> str:
        """Text still held back on ``channel`` (restored and scanned); the channel is closed."""
        restorer = self._restorers.pop(channel, None)
        held = self._pending.pop(channel, "") + (restorer.flush() if restorer is not None else "")
        return self._send(channel, held) if held else ""


def _put(obj: dict[str, Any], path: tuple[fields.PathStep, ...], text: str) -> None:
    """Append ``text`` at ``path`` in a chunk, creating what is missing (list steps are ``index`` values)."""
    target: Any = obj
    for step, nxt in itertools.pairwise(path):
        if isinstance(step, int):
            item = next((x for x in target if isinstance(x, dict) and x.get("index") == step), None)
            if item is None:
                item = {"index": step}
                target.append(item)
            target = item
        else:
            if not isinstance(target.get(step), dict | list):
                target[step] = [] if isinstance(nxt, int) else {}
            target = target[step]
    last = path[-1]
    target[last] = (target.get(last) or "") + text


def _check_chat_chunk(obj: Any) -> None:
    if not isinstance(obj, dict):
        raise ChunkError("a stream chunk is not a JSON object")
    choices = obj.get("choices", [])
    if not isinstance(choices, list):
        raise ChunkError("'choices' is not a list")
    for n, choice in enumerate(choices):
        if not isinstance(choice, dict):
            raise ChunkError(f"choices[{n}] is not an object")
        index = choice.get("index", 0)
        if not isinstance(index, int) or isinstance(index, bool) or index < 0:
            raise ChunkError(f"choices[{n}].index is not a non-negative integer")
        if choice.get("finish_reason") is not None and not isinstance(choice["finish_reason"], str):
            raise ChunkError(f"choices[{n}].finish_reason is not a string")
        delta = choice.get("delta")
        if delta is not None and not isinstance(delta, dict):
            raise ChunkError(f"choices[{n}].delta is not an object")
        for m, tc in enumerate((delta or {}).get("tool_calls") or []):
            tc_index = tc.get("index", 0) if isinstance(tc, dict) else None
            if not isinstance(tc_index, int) or isinstance(tc_index, bool):
                raise ChunkError(f"choices[{n}].delta.tool_calls[{m}].index is not an integer")


@dataclass
class StreamFixer:
    """Restores and scans the chunks (chat, completions) or events (Responses API) of one streamed answer."""

    guard: Guard
    call: Call
    path: str
    answer: AnswerStream = field(init=False)
    _last: dict[str, Any] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        self.answer = AnswerStream(self.guard, self.call)
        self._shape = fields.shape("answers", self.path)

    def handle(self, obj: Any) -> list[dict[str, Any]]:
        """What to send for one upstream chunk or event: held-back text first (Responses), then the chunk."""
        if self.path == RESPONSES:
            return self._event(obj)
        _check_chat_chunk(obj)
        self._last = {k: obj[k] for k in ("id", "object", "created", "model") if k in obj}
        self._fix(obj, channel_of=lambda slot: slot.path)
        for choice in obj.get("choices", []):
            if choice.get("finish_reason"):
                index = choice.get("index", 0)
                for channel in [c for c in self.answer.channels() if c[:2] == ("choices", index)]:
                    rest = self.answer.rest(channel)
                    if rest:
                        _put(obj, channel, rest)
        return [obj]

    def end(self) -> list[dict[str, Any]]:
        """Chunks or events for whatever is still held back when the upstream stream ends."""
        out = []
        for channel in self.answer.channels():
            rest = self.answer.rest(channel)
            if not rest:
                continue
            if self.path == RESPONSES:
                out.append(self._delta_event(channel, rest))
            else:
                chunk: dict[str, Any] = {**self._last, "choices": []}
                _put(chunk, channel, rest)
                out.append(chunk)
        return out

    def _fix(self, obj: dict[str, Any], channel_of: Any) -> None:
        for slot in fields.slots(obj, self._shape, numbers=False, max_depth=self.guard.max_depth):
            if slot.kind == "key":
                continue  # keys of a stream chunk are the API's own
            if slot.streamed:
                slot.container[slot.key] = self.answer.piece(channel_of(slot), slot.text)
            else:
                slot.container[slot.key] = self.guard.restore_text(slot.text, self.call)

    # -- Responses API events ------------------------------------------------------------------------------
    def _event(self, obj: Any) -> list[dict[str, Any]]:
        if not isinstance(obj, dict) or not isinstance(obj.get("type"), str):
            raise ChunkError("a Responses stream event without a string 'type'")
        kind: str = obj["type"]
        if kind.endswith(_BINARY_DELTAS):
            return [obj]
        out: list[dict[str, Any]] = []
        if kind.endswith(".done"):
            channel = self._channel(obj, kind.removesuffix(".done"))
            rest = self.answer.rest(channel)  # "" for a channel that never opened
            if rest:
                out.append(self._delta_event(channel, rest))
        elif kind in ("response.completed", "response.incomplete", "response.failed"):
            out.extend(self.end())
        family = kind.removesuffix(".delta")
        self._fix(obj, channel_of=lambda _slot: self._channel(obj, family))
        out.append(obj)
        return out

    @staticmethod
    def _channel(obj: dict[str, Any], family: str) -> tuple[Any, ...]:
        return (family, *(obj.get(k) for k in _ID_FIELDS))

    def _delta_event(self, channel: Any, text: str) -> dict[str, Any]:
        family = channel[0]
        ids = {k: v for k, v in zip(_ID_FIELDS, channel[1:], strict=True) if v is not None}
        return {"type": f"{family}.delta", **ids, "delta": text}


def error_event(path: str, message: str) -> dict[str, Any]:
    """The OpenAI-style error a stream ends with when the guard must stop it."""
    if path == RESPONSES:
        return {"type": "error", "code": "veil_upstream_error", "message": message, "param": None}
    return {"error": {"message": message, "type": "veil_upstream_error", "code": 502}}


@dataclass
class SseEvent:
    data: str
    event: str | None = None
    id: str | None = None


class SseParser:
    """Server-sent events from lines, with a bound on one event's size; comments are dropped."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._data: list[str] = []
        self._size = 0
        self._event: str | None = None
        self._id: str | None = None

    def feed(self, line: str) -> Iterator[SseEvent]:
        if not line:
            if self._data:
                yield SseEvent("\n".join(self._data), self._event, self._id)
            self._data, self._size, self._event, self._id = [], 0, None, None
            return
        if line.startswith(":"):
            return
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        self._size += len(line)
        if self._size > self.max_bytes:
            raise ChunkError(f"a stream event is over {self.max_bytes} bytes")
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id":
            self._id = value

    def close(self) -> Iterator[SseEvent]:
        yield from self.feed("")


def encode_event(obj: dict[str, Any] | str, path: str) -> bytes:
    data = obj if isinstance(obj, str) else json.dumps(obj, ensure_ascii=False)
    if path == RESPONSES and isinstance(obj, dict) and isinstance(obj.get("type"), str):
        return f"event: {obj['type']}\ndata: {data}\n\n".encode()
    return f"data: {data}\n\n".encode()

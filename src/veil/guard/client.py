"""``wrap(openai_client)``: the guard in-process, for apps that do not want a proxy.

``wrap(client, policy).chat.completions.create(...)`` pseudonymizes the messages, calls the model, and restores
the answer (streamed answers chunk by chunk); everything else on the client passes through unchanged.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

from veil.guard.core import AnswerStream, Guard
from veil.policy import Policy

PATH = "/v1/chat/completions"


class _RestoredStream:
    def __init__(self, stream: Any, guard: Guard, call: Any) -> None:
        self._stream = stream
        self._guard = guard
        self._call = call

    def __iter__(self) -> Iterator[Any]:
        answer = AnswerStream(self._guard, self._call)
        last = None
        for chunk in self._stream:
            last = chunk
            for choice in chunk.choices:
                piece = answer.piece(choice.index, choice.delta.content, bool(choice.finish_reason))
                if piece is not None:
                    choice.delta.content = piece
            yield chunk
        for index, rest in answer.rest().items():
            extra = last.model_copy(deep=True) if last is not None else None
            if extra is None:
                continue
            extra.choices = [c for c in extra.choices if c.index == index][:1]
            if extra.choices:
                extra.choices[0].delta.content = rest
                extra.choices[0].finish_reason = None
                yield extra
        self._guard.finish(self._call, PATH, 200)

    def close(self) -> None:
        close = getattr(self._stream, "close", None)
        if close is not None:
            close()


class _Completions:
    def __init__(self, inner: Any, guard: Guard) -> None:
        self._inner = inner
        self._guard = guard

    def create(self, **kwargs: Any) -> Any:
        body = copy.deepcopy(kwargs)
        call = self._guard.new_call()
        self._guard.protect_request(body, PATH, call)
        result = self._inner.create(**body)
        if body.get("stream"):
            return _RestoredStream(result, self._guard, call)
        for choice in result.choices:
            if choice.message.content:
                choice.message.content = self._guard.restore_text(choice.message.content, call)
            for tc in choice.message.tool_calls or []:
                tc.function.arguments = self._guard.restore(tc.function.arguments)
        self._guard.finish(call, PATH, 200)
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class _Chat:
    def __init__(self, inner: Any, guard: Guard) -> None:
        self.completions = _Completions(inner.completions, guard)
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class GuardedClient:
    """An OpenAI client whose chat completions go through the guard."""

    def __init__(self, client: Any, guard: Guard) -> None:
        self._client = client
        self.guard = guard
        self.chat = _Chat(client.chat, guard)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def wrap(client: Any, policy: Policy | None = None, *, guard: Guard | None = None) -> GuardedClient:
    """Wrap an ``openai.OpenAI`` client (or a compatible one) with the guard."""
    return GuardedClient(client, guard or Guard(policy or Policy()))

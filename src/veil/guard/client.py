"""``wrap(openai_client)``: the guard in-process, for apps that do not want a proxy.

``wrap(client, policy)`` guards ``chat.completions.create``, ``completions.create``, ``embeddings.create`` and
``responses.create`` exactly as the proxy does: every piece of content of the request (``extra_body`` included)
is pseudonymized, and the answer, whole or streamed, has only this call's own tokens restored and is
leak-scanned in every field. Everything else on the client passes through unchanged.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from typing import Any

from veil.errors import InputError
from veil.guard.core import Call, ConsentCheck, Guard, PolicyViolation, UpstreamError
from veil.guard.stream import ChunkError, StreamFixer
from veil.policy import Policy

SDK_OPTIONS = ("extra_headers", "extra_query", "timeout")


def _as_dict(obj: Any) -> Any:
    dump = getattr(obj, "model_dump", None)
    return dump(mode="json", exclude_unset=True) if dump is not None else copy.deepcopy(obj)


def _like(template: Any, data: Any) -> Any:
    """``data`` as an object of ``template``'s class (pydantic models of the SDK), or as it is."""
    validate = getattr(type(template), "model_validate", None)
    return validate(data) if validate is not None else data


class _RestoredStream:
    def __init__(self, stream: Any, guard: Guard, call: Call) -> None:
        self._stream = stream
        self._guard = guard
        self._call = call

    def __iter__(self) -> Iterator[Any]:
        fixer = StreamFixer(self._guard, self._call, self._call.path)
        classes: dict[Any, Any] = {}
        status = 200
        try:
            for chunk in self._stream:
                data = _as_dict(chunk)
                classes.setdefault(data.get("type") if isinstance(data, dict) else None, chunk)
                for out in fixer.handle(data):
                    yield _like(classes.get(out.get("type"), chunk), out)
            for out in fixer.end():
                template = classes.get(out.get("type")) or classes.get(None) or next(iter(classes.values()), None)
                yield _like(template, out)
        except (ChunkError, InputError) as exc:
            status = 502
            raise UpstreamError(f"the guard stopped the stream: {exc}") from None
        finally:
            self._guard.finish(self._call, status)

    def close(self) -> None:
        close = getattr(self._stream, "close", None)
        if close is not None:
            close()

    def __enter__(self) -> _RestoredStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Endpoint:
    """One guarded ``create``: the request walked like the proxy's, the answer restored from this call alone."""

    def __init__(self, inner: Any, guard: Guard, path: str) -> None:
        self._inner = inner
        self._guard = guard
        self._path = path

    def create(self, *, veil_subject: str | None = None, veil_purpose: str | None = None, **kwargs: Any) -> Any:
        """The SDK's ``create``; ``veil_purpose`` declares the call's purpose and ``veil_subject`` the data subject it
        is about (refused with :class:`AccessDenied` when they have not consented). Neither goes upstream."""
        options = {k: kwargs.pop(k) for k in SDK_OPTIONS if k in kwargs}
        body = copy.deepcopy(kwargs)
        body.update(body.pop("extra_body", None) or {})
        call = self._guard.new_call(path=self._path, purpose=veil_purpose, subject=veil_subject)
        self._guard.protect_request(body, self._path, call)
        named = {k: body.pop(k) for k in list(body) if k in kwargs and k != "extra_body"}
        if body:
            options["extra_body"] = body  # extra parameters and renamed keys travel as the SDK's extra body
        result = self._call_upstream(call, named, options)
        if named.get("stream"):
            return _RestoredStream(result, self._guard, call)
        try:
            restored = self._guard.restore_body(_as_dict(result), self._path, call)
        except PolicyViolation:
            self._guard.finish(call, 422)
            raise
        self._guard.finish(call, 200)
        return _like(result, restored)

    def _call_upstream(self, call: Call, named: dict[str, Any], options: dict[str, Any]) -> Any:
        create: Callable[..., Any] = self._inner.create
        try:
            return create(**named, **options)
        except Exception as exc:
            self._guard.finish(call, int(getattr(exc, "status_code", 0) or 502))
            raise

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class _Namespace:
    """A client attribute (``chat``, ``responses``...) whose ``create`` endpoints are guarded."""

    def __init__(self, inner: Any, guarded: dict[str, Any]) -> None:
        self._inner = inner
        self.__dict__.update(guarded)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class GuardedClient:
    """An OpenAI client whose model calls go through the guard."""

    def __init__(self, client: Any, guard: Guard) -> None:
        self._client = client
        self.guard = guard
        if hasattr(client, "chat"):
            completions = _Endpoint(client.chat.completions, guard, "/v1/chat/completions")
            self.chat = _Namespace(client.chat, {"completions": completions})
        for name, path in (("completions", "/v1/completions"), ("embeddings", "/v1/embeddings"),
                           ("responses", "/v1/responses")):  # fmt: skip
            if hasattr(client, name):
                setattr(self, name, _Endpoint(getattr(client, name), guard, path))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def wrap(
    client: Any, policy: Policy | None = None, *, guard: Guard | None = None, consent: ConsentCheck | None = None
) -> GuardedClient:
    """Wrap an ``openai.OpenAI`` client (or a compatible one) with the guard. ``consent``: the check for calls
    tagged with ``veil_subject`` (``veil.governance.enforce.consent_check(vault, policy)``)."""
    return GuardedClient(client, guard or Guard(policy or Policy(), consent=consent))

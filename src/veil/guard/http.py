"""HTTP pieces of the guard proxy: OpenAI-style error answers, bodies read within a limit, JSON parsing."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import httpx
from fastapi.responses import JSONResponse

if TYPE_CHECKING:
    from veil.guard.core import Call


class Refusal(Exception):
    """An OpenAI-style error answer, raised anywhere in a request's handling. ``call``: the model call it ends
    (finished, audited and counted once, where the refusal is answered); ``label``: its metrics result."""

    def __init__(self, status: int, message: str, kind: str, *, call: Call | None = None, label: str = "") -> None:
        super().__init__(message)
        self.status, self.message, self.kind = status, message, kind
        self.call, self.label = call, label


def error_response(status: int, message: str, kind: str, rid: str) -> JSONResponse:
    body = {"error": {"message": message, "type": kind, "code": status}}
    return JSONResponse(body, status_code=status, headers={"x-request-id": rid})


def upstream_failure(exc: httpx.HTTPError, call: Call | None = None) -> Refusal:
    """504 when the model did not answer in time, 502 when it cannot be reached."""
    if isinstance(exc, httpx.TimeoutException):
        return Refusal(504, "the upstream model did not answer in time", "veil_upstream_timeout", call=call)
    message = f"the upstream model cannot be reached: {type(exc).__name__}"
    return Refusal(502, message, "veil_upstream_error", call=call)


async def read_limited(chunks: AsyncIterator[bytes], limit: int, what: str) -> bytes:
    """A body read as it arrives, refused as soon as it passes ``limit`` bytes (never held whole beyond it)."""
    parts: list[bytes] = []
    size = 0
    async for chunk in chunks:
        size += len(chunk)
        if size > limit:
            raise Refusal(413 if what == "request" else 502, f"{what} body over {limit} bytes", "veil_too_large")
        parts.append(chunk)
    return b"".join(parts)


def parse_json(raw: bytes, what: str) -> Any:
    try:
        return json.loads(raw)
    except RecursionError:
        raise Refusal(400, f"the {what} body is nested too deeply", "invalid_request_error") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        where = f"line {exc.lineno} column {exc.colno}" if isinstance(exc, json.JSONDecodeError) else "its encoding"
        raise Refusal(400, f"the {what} body is not valid JSON ({where})", "invalid_request_error") from None

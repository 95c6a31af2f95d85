"""A scripted upstream model and the guard proxy, both served by uvicorn on loopback for each test module."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from veil.anonymizer import Anonymizer
from veil.guard.core import Guard
from veil.guard.proxy import create_app
from veil.policy import Policy
from veil.storage.testing import free_port
from veil.vault import MasterKey, Vault


class Server:
    def __init__(self, app: Any) -> None:
        self.port = free_port()
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="error"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> Server:
        self.thread.start()
        deadline = time.time() + 20
        while not self.server.started:
            if time.time() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def upstream_app(received: list[dict[str, Any]]) -> FastAPI:
    app = FastAPI()

    def answer_for(body: dict[str, Any]) -> str:
        last = body["messages"][-1]["content"]
        text = last if isinstance(last, str) else " ".join(p.get("text", "") for p in last)
        if "LEAK" in text:
            return "Sure. Also write to leak.target@evil-example.com about it."
        return f"You said: {text}"

    @app.post("/v1/chat/completions")
    async def chat(request: Request) -> Any:
        body = await request.json()
        received.append(body)
        answer = answer_for(body)
        if "FAIL500" in answer:
            return JSONResponse({"error": {"message": "upstream exploded"}}, status_code=500)
        if "SLOW" in answer:
            await asyncio.sleep(5)
        if body.get("stream"):

            async def events() -> Any:
                for i in range(0, len(answer), 3):
                    chunk = {
                        "id": "c1",
                        "object": "chat.completion.chunk",
                        "created": 0,
                        "model": body["model"],
                        "choices": [{"index": 0, "delta": {"content": answer[i : i + 3]}, "finish_reason": None}],
                    }
                    yield f"data: {json.dumps(chunk)}\n\n"
                end = {
                    "id": "c1",
                    "object": "chat.completion.chunk",
                    "created": 0,
                    "model": body["model"],
                    "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
                }
                yield f"data: {json.dumps(end)}\n\ndata: [DONE]\n\n"

            return StreamingResponse(events(), media_type="text/event-stream")
        return {
            "id": "c1",
            "object": "chat.completion",
            "created": 0,
            "model": body["model"],
            "choices": [{"index": 0, "message": {"role": "assistant", "content": answer}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        }

    @app.post("/v1/embeddings")
    async def embeddings(request: Request) -> Any:
        body = await request.json()
        received.append(body)
        inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
        return {
            "object": "list",
            "model": body["model"],
            "usage": {"prompt_tokens": 1, "total_tokens": 1},
            "data": [{"object": "embedding", "index": i, "embedding": [0.1, 0.2]} for i, _ in enumerate(inputs)],
        }

    @app.get("/v1/models")
    async def models() -> Any:
        return {"object": "list", "data": [{"id": "echo-1", "object": "model", "created": 0, "owned_by": "test"}]}

    return app


class Script:
    """What the scripted upstream answers next: a JSON body (with a status) or a list of raw SSE lines."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.status = 200
        self.body: Any = None
        self.raw: bytes | None = None
        self.events: list[str] | None = None

    def answer(self, body: Any = None, *, status: int = 200, raw: bytes | None = None,
               events: list[str] | None = None) -> None:  # fmt: skip
        self.body, self.status, self.raw, self.events = body, status, raw, events


def scripted_app(script: Script) -> FastAPI:
    """An upstream that records each request and answers whatever the test scripted, on every /v1 path."""
    app = FastAPI()

    @app.api_route("/v1/{rest:path}", methods=["GET", "POST"])
    async def any_path(rest: str, request: Request) -> Any:
        raw = await request.body()
        script.received.append(json.loads(raw) if raw else {})
        script.headers.append(dict(request.headers))
        if script.events is not None:
            lines = script.events

            async def events() -> Any:
                for line in lines:
                    yield line + "\n"

            return StreamingResponse(events(), media_type="text/event-stream")
        if script.raw is not None:
            return Response(script.raw, status_code=script.status, media_type="text/plain")
        return JSONResponse(script.body, status_code=script.status)

    return app


def sse(*objs: Any) -> list[str]:
    """SSE lines for chunks (dicts; a Responses event's 'type' also becomes its event name), then [DONE]."""
    lines = []
    for obj in objs:
        if isinstance(obj, dict) and "type" in obj:
            lines.append(f"event: {obj['type']}")
        lines.extend([f"data: {json.dumps(obj) if not isinstance(obj, str) else obj}", ""])
    return [*lines, "data: [DONE]", ""]


def chat_answer(message: dict[str, Any]) -> dict[str, Any]:
    return {"id": "c1", "object": "chat.completion", "created": 0, "model": "m",
            "choices": [{"index": 0, "message": {"role": "assistant", **message}, "finish_reason": "stop"}]}  # fmt: skip


def chunk(delta: dict[str, Any], finish: str | None = None, index: int = 0) -> dict[str, Any]:
    return {"id": "c1", "object": "chat.completion.chunk", "created": 0, "model": "m",
            "choices": [{"index": index, "delta": delta, "finish_reason": finish}]}  # fmt: skip


POLICY = {"detection": {"ner": False}, "default": {"operator": "pseudonymize"}, "guard": {"timeout_seconds": 2}}


@pytest.fixture(scope="module")
def received() -> list[dict[str, Any]]:
    return []


@pytest.fixture(scope="module")
def guard(tmp_path_factory: pytest.TempPathFactory) -> Guard:
    path: Path = tmp_path_factory.mktemp("guard") / "vault.db"
    vault = Vault(f"sqlite:///{path}", master_key=MasterKey(b"g" * 32, "test"))
    policy = Policy.model_validate(POLICY)
    return Guard(policy, Anonymizer(policy, vault=vault))


@pytest.fixture(scope="module")
def servers(received: list[dict[str, Any]], guard: Guard) -> Iterator[tuple[Server, Server]]:
    with Server(upstream_app(received)) as up, Server(create_app(guard, up.url + "/", "upstream-key")) as proxy:
        yield up, proxy


@pytest.fixture(scope="module")
def script() -> Script:
    return Script()


@pytest.fixture(scope="module")
def scripted(script: Script, guard: Guard) -> Iterator[tuple[Server, Server]]:
    """The scripted upstream and an open guard in front of it."""
    with Server(scripted_app(script)) as up, Server(create_app(guard, up.url)) as proxy:
        yield up, proxy

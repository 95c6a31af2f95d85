"""The guard as an ASGI proxy for OpenAI-compatible APIs (run with ``veil guard``).

``/v1/chat/completions``, ``/v1/completions`` and ``/v1/embeddings`` are protected (pseudonymized on the way in,
restored and leak-scanned on the way out, streamed answers included); ``/v1/models`` passes through; other paths
are refused unless the policy says ``unknown_paths: pass``. ``/metrics`` serves Prometheus metrics.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from starlette.concurrency import run_in_threadpool

from veil.errors import VeilError
from veil.guard.core import AnswerStream, Call, Guard, PolicyViolation

T = TypeVar("T")
PROTECTED = ("/v1/chat/completions", "/v1/completions", "/v1/embeddings")


def _upstream_failure(exc: httpx.HTTPError, rid: str) -> JSONResponse:
    """504 when the model did not answer in time, 502 when it cannot be reached."""
    if isinstance(exc, httpx.TimeoutException):
        return _error(504, "the upstream model did not answer in time", "veil_upstream_timeout", rid)
    return _error(502, f"the upstream model cannot be reached: {type(exc).__name__}", "veil_upstream_error", rid)


def _error(status: int, message: str, kind: str, rid: str) -> JSONResponse:
    body = {"error": {"message": message, "type": kind, "code": status}}
    return JSONResponse(body, status_code=status, headers={"x-request-id": rid})


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "veil_guard_requests", "Requests by path and result", ["path", "result"], registry=self.registry
        )
        self.entities = Counter(
            "veil_guard_entities", "Personal data found", ["entity", "direction"], registry=self.registry
        )
        self.overhead = Histogram(
            "veil_guard_overhead_seconds",
            "Time the guard adds (excluding the upstream)",
            ["path"],
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0),
        )

    def record(self, path: str, result: str, call: Call | None) -> None:
        self.requests.labels(path, result).inc()
        if call is not None:
            for entity, n in call.found.items():
                self.entities.labels(entity, "request").inc(n)
            for entity, n in call.leaks.items():
                self.entities.labels(entity, "answer").inc(n)


def create_app(
    guard: Guard, upstream: str, api_key: str | None = None, transport: httpx.AsyncBaseTransport | None = None
) -> FastAPI:
    settings = guard.policy.guard
    # Keep connections to the model open for every concurrent client (httpx keeps only 20 by default).
    limits = httpx.Limits(max_connections=1000, max_keepalive_connections=1000, keepalive_expiry=60)
    client = httpx.AsyncClient(
        base_url=upstream.rstrip("/"), timeout=settings.timeout_seconds, transport=transport, limits=limits
    )
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await client.aclose()

    app = FastAPI(title="Veil guard", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.state.metrics = metrics

    # The regex tier costs about a millisecond per request: run it on the event loop (a thread hop costs more).
    # NER takes tens of milliseconds: hand it to the thread pool so the loop keeps serving other connections.
    offload = guard.anonymizer.detector.ner is not None

    async def work(fn: Callable[..., T], *args: Any) -> T:
        return await run_in_threadpool(fn, *args) if offload else fn(*args)

    def upstream_headers(request: Request, rid: str) -> dict[str, str]:
        headers = {"content-type": "application/json", "x-request-id": rid}
        auth = f"Bearer {api_key}" if api_key else request.headers.get("authorization")
        if auth:
            headers["authorization"] = auth
        return headers

    @app.get("/metrics")
    async def prometheus() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.api_route("/v1/{rest:path}", methods=["GET", "POST", "PUT", "DELETE", "PATCH"])
    async def proxy(rest: str, request: Request) -> Response:
        path = "/v1/" + rest
        rid = request.headers.get("x-request-id") or uuid.uuid4().hex
        if path in PROTECTED and request.method == "POST":
            return await protected(path, request, rid)
        if path == "/v1/models" or settings.unknown_paths == "pass":
            return await passthrough(path, request, rid)
        metrics.record(path, "refused", None)
        return _error(404, f"{path} is not proxied by the guard policy", "veil_path_refused", rid)

    async def passthrough(path: str, request: Request, rid: str) -> Response:
        try:
            resp = await client.request(
                request.method,
                path,
                content=await request.body(),
                headers=upstream_headers(request, rid),
                params=request.query_params,
            )
        except httpx.HTTPError as exc:
            return _upstream_failure(exc, rid)
        metrics.record(path, str(resp.status_code), None)
        return Response(
            resp.content,
            status_code=resp.status_code,
            media_type=resp.headers.get("content-type"),
            headers={"x-request-id": rid},
        )

    async def protected(path: str, request: Request, rid: str) -> Response:
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > settings.max_body_bytes:
            metrics.record(path, "413", None)
            return _error(413, f"request body over {settings.max_body_bytes} bytes", "veil_too_large", rid)
        raw = await request.body()
        if len(raw) > settings.max_body_bytes:
            return _error(413, f"request body over {settings.max_body_bytes} bytes", "veil_too_large", rid)
        try:
            body = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            metrics.record(path, "400", None)
            return _error(400, f"the request body is not valid JSON: {exc}", "invalid_request_error", rid)
        if not isinstance(body, dict):
            return _error(400, "the request body must be a JSON object", "invalid_request_error", rid)
        call = guard.new_call(rid)
        started = time.perf_counter()
        try:
            body = await work(guard.protect_request, body, path, call)
        except PolicyViolation as exc:
            metrics.record(path, "blocked", call)
            return _error(422, exc.message, "veil_policy_violation", rid)
        except VeilError as exc:
            return _error(500, exc.message, "veil_error", rid)
        overhead = time.perf_counter() - started
        headers = upstream_headers(request, rid)
        sent = time.perf_counter()
        try:
            upstream_request = client.build_request("POST", path, json=body, headers=headers)
            resp = await client.send(upstream_request, stream=True)
        except httpx.HTTPError as exc:
            failure = _upstream_failure(exc, rid)
            guard.finish(call, path, failure.status_code)
            return failure
        if resp.status_code >= 400:
            content = await resp.aread()
            await resp.aclose()
            guard.finish(call, path, resp.status_code)
            metrics.record(path, str(resp.status_code), call)
            text = guard.restore(content.decode("utf-8", "replace"))
            return Response(
                text,
                status_code=resp.status_code,
                media_type=resp.headers.get("content-type"),
                headers={"x-request-id": rid},
            )
        if body.get("stream") and "text/event-stream" in resp.headers.get("content-type", ""):
            return StreamingResponse(
                stream(resp, path, call, overhead),
                media_type="text/event-stream",
                headers={"x-request-id": rid, "cache-control": "no-cache"},
            )
        try:
            data = json.loads(await resp.aread())
        except json.JSONDecodeError:
            return _error(502, "the upstream answer is not valid JSON", "veil_upstream_error", rid)
        finally:
            await resp.aclose()
        upstream_ms = (time.perf_counter() - sent) * 1000
        started = time.perf_counter()
        try:
            data = await work(guard.restore_response, data, path, call)
        except PolicyViolation as exc:
            metrics.record(path, "blocked", call)
            guard.finish(call, path, 422)
            return _error(422, exc.message, "veil_policy_violation", rid)
        overhead += time.perf_counter() - started
        metrics.overhead.labels(path).observe(overhead)
        metrics.record(path, "200", call)
        guard.finish(call, path, 200)
        timing = {"x-veil-overhead-ms": f"{overhead * 1000:.3f}", "x-veil-upstream-ms": f"{upstream_ms:.3f}"}
        return JSONResponse(data, headers={"x-request-id": rid, **timing})

    async def stream(resp: httpx.Response, path: str, call: Call, overhead: float) -> AsyncIterator[bytes]:
        answer = AnswerStream(guard, call)
        key = "text" if path == "/v1/completions" else "content"

        def fix(obj: dict[str, Any]) -> None:
            for choice in obj.get("choices") or []:
                if not isinstance(choice, dict):
                    continue
                holder = choice if key == "text" else choice.get("delta")
                if not isinstance(holder, dict):
                    continue
                text = holder.get(key) if isinstance(holder.get(key), str) else None
                piece = answer.piece(int(choice.get("index", 0)), text, bool(choice.get("finish_reason")))
                if piece is not None:
                    holder[key] = piece

        try:
            async for line in resp.aiter_lines():
                if not line.startswith("data:"):
                    if line:
                        yield (line + "\n").encode()
                    continue
                payload = line[5:].strip()
                if payload == "[DONE]":
                    for idx, rest in answer.rest().items():
                        if rest:
                            chunk = {
                                "object": "chat.completion.chunk",
                                "choices": [
                                    {"index": idx, "delta": {"content": rest}}
                                    if key == "content"
                                    else {"index": idx, "text": rest}
                                ],
                            }
                            yield f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n".encode()
                    yield b"data: [DONE]\n\n"
                    continue
                try:
                    obj = json.loads(payload)
                except json.JSONDecodeError:
                    yield f"data: {payload}\n\n".encode()
                    continue
                started = time.perf_counter()
                await work(fix, obj)
                overhead += time.perf_counter() - started
                yield f"data: {json.dumps(obj, ensure_ascii=False)}\n\n".encode()
        finally:
            await resp.aclose()
            metrics.overhead.labels(path).observe(overhead)
            metrics.record(path, "200", call)
            guard.finish(call, path, 200)

    return app


def app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory`` (one per worker process): VEIL_GUARD_POLICY, VEIL_GUARD_UPSTREAM and
    optionally VEIL_GUARD_API_KEY_ENV (the name of the variable holding the upstream key)."""
    import os

    from veil.policy import load_policy

    key_env = os.environ.get("VEIL_GUARD_API_KEY_ENV")
    policy = load_policy(os.environ["VEIL_GUARD_POLICY"])
    return create_app(Guard(policy), os.environ["VEIL_GUARD_UPSTREAM"], os.environ.get(key_env) if key_env else None)

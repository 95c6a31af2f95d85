"""The guard as an ASGI proxy for OpenAI-compatible APIs (run with ``veil guard``).

``/v1/chat/completions``, ``/v1/completions``, ``/v1/embeddings`` and ``/v1/responses`` are protected (every
piece of content pseudonymized on the way in; the call's own tokens restored and the answer leak-scanned on the
way out, streamed answers included); ``/v1/models`` passes through; other paths are refused unless the policy
says ``unknown_paths: pass``. Callers are tenants (Veil API keys) unless the app is made ``open``. ``/metrics``
serves Prometheus metrics, ``/healthz`` liveness and ``/readyz`` readiness (recognizers, model and vault loaded).
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from typing import Any, TypeVar

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.concurrency import run_in_threadpool

from veil.errors import AccessDenied, ConfigError, InputError, VeilError
from veil.guard.core import Call, Guard, PolicyViolation
from veil.guard.http import Refusal, error_response, parse_json, read_limited, upstream_failure
from veil.guard.metrics import PROTECTED, Metrics
from veil.guard.stream import ChunkError, SseParser, StreamFixer, encode_event, error_event
from veil.guard.tenants import OPEN, Tenant, Tenants, Unauthenticated

T = TypeVar("T")


class GuardProxy:
    """The proxy's request handling; :func:`create_app` wires it into FastAPI routes."""

    def __init__(
        self,
        guard: Guard,
        upstream: str,
        api_key: str | None,
        transport: httpx.AsyncBaseTransport | None,
        tenants: Tenants | None,
    ) -> None:
        self.guard = guard
        self.settings = guard.policy.guard
        self.api_key = api_key
        self.tenants = tenants
        # Keep connections to the model open for every concurrent client (httpx keeps only 20 by default).
        limits = httpx.Limits(max_connections=1000, max_keepalive_connections=1000, keepalive_expiry=60)
        self.client = httpx.AsyncClient(
            base_url=upstream.rstrip("/"), timeout=self.settings.timeout_seconds, transport=transport, limits=limits
        )
        self.metrics = Metrics()
        self.ready = asyncio.Event()
        self.not_ready = "starting: loading the recognizers and the model"
        # The regex tier costs about a millisecond per request: run it on the event loop (a thread hop costs more).
        # NER takes tens of milliseconds: hand it to the thread pool so the loop keeps serving other connections.
        self.offload = guard.anonymizer.detector.ner is not None

    async def work(self, fn: Callable[..., T], *args: Any) -> T:
        return await run_in_threadpool(fn, *args) if self.offload else fn(*args)

    async def warm_up(self) -> None:
        try:
            await run_in_threadpool(self.guard.warm_up)
            await run_in_threadpool(self.guard.anonymizer.vault.scope_keys, self.guard.policy.scope)
        except VeilError as exc:
            self.not_ready = f"not ready: {exc.message}"
            return
        self.ready.set()

    async def wait_ready(self) -> None:
        try:
            await asyncio.wait_for(self.ready.wait(), timeout=self.settings.timeout_seconds)
        except TimeoutError:
            raise Refusal(503, f"the guard is {self.not_ready}", "veil_not_ready") from None

    def upstream_headers(self, request: Request, rid: str) -> dict[str, str]:
        headers = {"content-type": "application/json", "x-request-id": rid}
        if self.api_key:
            headers["authorization"] = f"Bearer {self.api_key}"
        elif self.tenants is None and request.headers.get("authorization"):
            headers["authorization"] = request.headers["authorization"]  # open mode: the caller's own key
        return headers

    async def tenant(self, request: Request) -> Tenant:
        if self.tenants is None:
            return OPEN
        purpose = request.headers.get("x-veil-purpose") or None
        authorization = request.headers.get("authorization")
        try:
            cached = self.tenants.cached(authorization, purpose)
            if cached is not None:
                return cached
            return await run_in_threadpool(self.tenants.authenticate, authorization, purpose)
        except Unauthenticated as exc:
            raise Refusal(401, exc.message, "veil_unauthenticated") from None
        except AccessDenied as exc:
            raise Refusal(403, exc.message, "veil_access_denied") from None

    # -- routes --------------------------------------------------------------------------------------------
    async def route(self, rest: str, request: Request) -> Response:
        path = "/v1/" + rest
        rid = request.headers.get("x-request-id") or uuid.uuid4().hex
        if len(rid) > 200 or not rid.isprintable():
            rid = uuid.uuid4().hex
        tenant = OPEN
        try:
            if path in PROTECTED and request.method == "POST":
                tenant = await self.tenant(request)
                return await self.protected(path, request, rid, tenant)
            if path == "/v1/models" or self.settings.unknown_paths == "pass":
                tenant = await self.tenant(request)
                return await self.passthrough(path, request, rid, tenant)
            raise Refusal(404, "this path is not proxied by the guard policy", "veil_path_refused")
        except Refusal as exc:
            if exc.call is not None:
                self.guard.finish(exc.call, exc.status)
            self.metrics.record(path, exc.label or exc.status, exc.call, tenant.actor)
            return error_response(exc.status, exc.message, exc.kind, rid)

    async def passthrough(self, path: str, request: Request, rid: str, tenant: Tenant) -> Response:
        body = await read_limited(request.stream(), self.settings.max_body_bytes, "request")
        try:
            resp = await self.client.request(
                request.method, path, content=body, headers=self.upstream_headers(request, rid),
                params=request.query_params,
            )  # fmt: skip
        except httpx.HTTPError as exc:
            raise upstream_failure(exc) from None
        self.metrics.record(path, resp.status_code, None, tenant.actor)
        return Response(
            resp.content, status_code=resp.status_code, media_type=resp.headers.get("content-type"),
            headers={"x-request-id": rid},
        )  # fmt: skip

    async def protected(self, path: str, request: Request, rid: str, tenant: Tenant) -> Response:
        await self.wait_ready()
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.settings.max_body_bytes:
            raise Refusal(413, f"request body over {self.settings.max_body_bytes} bytes", "veil_too_large")
        body = parse_json(await read_limited(request.stream(), self.settings.max_body_bytes, "request"), "request")
        if not isinstance(body, dict):
            raise Refusal(400, "the request body must be a JSON object", "invalid_request_error")
        try:
            call = await run_in_threadpool(
                self.guard.new_call, rid, path=path, scope=tenant.scope, actor=tenant.actor,
                purpose=request.headers.get("x-veil-purpose") or None, subject=request.headers.get("x-veil-subject"),
            )  # fmt: skip
        except AccessDenied as exc:
            raise Refusal(403, exc.message, "veil_consent_refused") from None
        except ConfigError as exc:
            raise Refusal(400, exc.message, "invalid_request_error") from None
        started = time.perf_counter()
        try:
            body = await self.work(self.guard.protect_request, body, path, call)
        except PolicyViolation as exc:
            self.metrics.record(path, "blocked", call, tenant.actor)
            return error_response(422, exc.message, "veil_policy_violation", rid)
        except InputError as exc:
            raise Refusal(400, exc.message, "invalid_request_error") from None
        except VeilError as exc:
            raise Refusal(500, exc.message, "veil_error") from None
        return await self.forward(path, request, rid, call, body, time.perf_counter() - started)

    async def forward(
        self, path: str, request: Request, rid: str, call: Call, body: dict[str, Any], overhead: float
    ) -> Response:
        sent = time.perf_counter()
        try:
            upstream_request = self.client.build_request(
                "POST", path, json=body, headers=self.upstream_headers(request, rid)
            )
            resp = await self.client.send(upstream_request, stream=True)
        except httpx.HTTPError as exc:
            raise upstream_failure(exc, call) from None
        if (
            resp.status_code < 400
            and body.get("stream")
            and "text/event-stream" in resp.headers.get("content-type", "")
        ):
            return StreamingResponse(
                self.stream(resp, call, overhead), media_type="text/event-stream",
                headers={"x-request-id": rid, "cache-control": "no-cache"},
            )  # fmt: skip
        try:
            raw = await read_limited(resp.aiter_bytes(), self.settings.max_answer_bytes, "answer")
        except httpx.HTTPError as exc:
            raise upstream_failure(exc, call) from None
        except Refusal as exc:  # over max_answer_bytes
            exc.call = call
            raise
        finally:
            await resp.aclose()
        upstream_ms = (time.perf_counter() - sent) * 1000
        started = time.perf_counter()
        content = await self.answer(resp, raw, call)
        overhead += time.perf_counter() - started
        if resp.status_code < 400:
            self.metrics.overhead.labels(path).observe(overhead)
        self.finish(call, resp.status_code)
        timing = {"x-veil-overhead-ms": f"{overhead * 1000:.3f}", "x-veil-upstream-ms": f"{upstream_ms:.3f}"}
        media = "application/json" if isinstance(content, dict | list) else resp.headers.get("content-type")
        data = json.dumps(content, ensure_ascii=False) if isinstance(content, dict | list) else content
        return Response(
            data, status_code=resp.status_code, media_type=media, headers={"x-request-id": call.request_id, **timing}
        )

    async def answer(self, resp: httpx.Response, raw: bytes, call: Call) -> Any:
        """The restored, leak-scanned answer (or error body): JSON walked field by field, anything else as text."""
        try:
            data = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
            if resp.status_code < 400:
                raise Refusal(502, "the upstream answer is not valid JSON", "veil_upstream_error", call=call) from None
            data = raw.decode("utf-8", "replace")
        try:
            if isinstance(data, str):
                return await self.work(self.guard.restore_text, data, call)
            return await self.work(self.guard.restore_body, data, call.path, call)
        except PolicyViolation as exc:
            raise Refusal(422, exc.message, "veil_policy_violation", call=call, label="blocked") from None
        except InputError as exc:
            raise Refusal(502, f"the upstream answer: {exc.message}", "veil_upstream_error", call=call) from None

    def finish(self, call: Call, status: int) -> None:
        self.metrics.record(call.path, status, call, call.actor)
        self.guard.finish(call, status)

    async def stream(self, resp: httpx.Response, call: Call, overhead: float) -> AsyncIterator[bytes]:
        fixer = StreamFixer(self.guard, call, call.path)
        parser = SseParser(self.settings.max_answer_bytes)
        status = 200
        try:
            async for line in resp.aiter_lines():
                for event in parser.feed(line):
                    started = time.perf_counter()
                    out = await self.work(self._event, fixer, event.data)
                    overhead += time.perf_counter() - started
                    for item in out:
                        yield encode_event(item, call.path)
            for event in parser.close():
                for item in await self.work(self._event, fixer, event.data):
                    yield encode_event(item, call.path)
            for item in await self.work(fixer.end):
                yield encode_event(item, call.path)
        except (ChunkError, InputError) as exc:
            status = 502
            for item in fixer.end():
                yield encode_event(item, call.path)
            yield encode_event(error_event(call.path, f"the guard stopped the stream: {exc}"), call.path)
        except httpx.HTTPError as exc:
            status = 502
            yield encode_event(error_event(call.path, f"the upstream stream failed: {type(exc).__name__}"), call.path)
        finally:
            with suppress(Exception):
                await resp.aclose()
            self.metrics.overhead.labels(call.path).observe(overhead)
            self.finish(call, status)

    @staticmethod
    def _event(fixer: StreamFixer, data: str) -> list[dict[str, Any] | str]:
        if data == "[DONE]":
            return [*fixer.end(), "[DONE]"]
        try:
            obj = json.loads(data)
        except (json.JSONDecodeError, RecursionError):
            raise ChunkError("the upstream sent a stream event that is not JSON") from None
        return list(fixer.handle(obj))


def create_app(
    guard: Guard,
    upstream: str,
    api_key: str | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    *,
    tenants: Tenants | None = None,
) -> FastAPI:
    """The proxy app. ``tenants=None`` is the open, single-tenant mode (``veil guard --open``)."""
    proxy = GuardProxy(guard, upstream, api_key, transport, tenants)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        warm = asyncio.create_task(proxy.warm_up())
        yield
        warm.cancel()
        await proxy.client.aclose()
        guard.audit.flush()

    app = FastAPI(title="Veil guard", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.state.metrics = proxy.metrics
    app.state.proxy = proxy

    @app.get("/metrics")
    async def prometheus() -> Response:
        return Response(generate_latest(proxy.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz")
    async def readyz() -> Response:
        if proxy.ready.is_set():
            return JSONResponse({"status": "ready", "tiers": guard.anonymizer.detector.tiers})
        return JSONResponse({"status": proxy.not_ready}, status_code=503)

    app.add_api_route("/v1/{rest:path}", proxy.route, methods=["GET", "POST", "PUT", "DELETE", "PATCH"])
    return app

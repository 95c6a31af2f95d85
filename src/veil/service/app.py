"""The service app: the ``/v1`` API, the dashboard (``/ui``), the privacy center (``/center``), static assets,
and the guard at ``/llm`` when an upstream model is configured. No business logic here: routers call the
library, middleware adds headers and limits."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from importlib.resources import files
from typing import Any

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from veil.service import errors
from veil.service.security import HEADERS
from veil.service.state import State


class Limits:
    """Security headers on every answer, and request bodies refused past ``max_body`` bytes as they arrive."""

    def __init__(self, app: ASGIApp, max_body: int, tls: bool, max_he_body: int | None = None) -> None:
        self.app, self.max_body, self.tls = app, max_body, tls
        self.max_he_body = max_he_body or max_body
        extra = {**HEADERS, **({"strict-transport-security": "max-age=31536000"} if tls else {})}
        self.extra = [(k.encode(), v.encode()) for k, v in extra.items()]
        self.names = {k for k, _ in self.extra}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_he_body if scope.get("path", "").startswith("/v1/he/") else self.max_body
        declared = dict(scope.get("headers") or []).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            await _too_large(send, limit)
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit:
                raise _TooLarge
            return message

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers} & self.names
                headers += [h for h in self.extra if h[0] not in present] if present else self.extra
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, limited, with_headers)
        except _TooLarge:
            await _too_large(send, limit)


class _TooLarge(Exception):
    pass


async def _too_large(send: Send, limit: int) -> None:
    body = json.dumps(errors.error_body("VEIL-413", f"request body over {limit} bytes")).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def create_app(state: State) -> Any:
    from veil.service.api import alerts, audit, governance, he, privacy, session, tables, text
    from veil.service.web import center, common, dashboard

    mounted: list[Any] = []  # sub-apps whose lifespan (the guard's warm-up and shutdown) runs with the service's

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            for sub in mounted:
                await stack.enter_async_context(sub.router.lifespan_context(sub))
            yield

    app = FastAPI(title="Veil", version="0.1.0", docs_url="/docs", redoc_url=None, lifespan=lifespan)
    app.state.veil = state
    errors.install(app)
    for module in (text, tables, privacy, audit, alerts, governance, session, he):
        app.include_router(module.router)
    app.include_router(dashboard.router)
    common.install(app)
    if state.policy.service.center.enabled:
        app.include_router(center.router)
    app.mount("/static", StaticFiles(directory=str(files("veil.service") / "static")), name="static")

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon() -> RedirectResponse:
        return RedirectResponse("/static/favicon.svg", status_code=301)

    @app.get("/", include_in_schema=False)
    async def root() -> RedirectResponse:
        return RedirectResponse("/ui")

    if state.settings.upstream:
        from veil.governance.enforce import consent_check
        from veil.guard.core import Guard
        from veil.guard.proxy import create_app as guard_app
        from veil.guard.tenants import Tenants

        guard = Guard(state.policy, state.anonymizer, consent=consent_check(state.vault, state.policy))
        llm = guard_app(guard, state.settings.upstream, state.settings.upstream_key, tenants=Tenants(state.access))
        mounted.append(llm)
        app.mount("/llm", llm)
    svc = state.policy.service
    return Limits(app, svc.max_body_bytes, state.settings.tls, svc.max_he_body_bytes)

"""Who is calling: FastAPI dependencies that authenticate (API key, session token or dashboard cookie), limit
the rate per principal, and check a permission (refusals audited by the access control)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from veil.errors import AccessDenied
from veil.service.errors import ApiError
from veil.service.state import State
from veil.vault.access import Session

COOKIE = "veil_session"


def state(request: Request) -> State:
    found: State = request.app.state.veil
    return found


StateDep = Annotated[State, Depends(state)]


async def principal(request: Request, st: StateDep) -> Session:
    """The caller's session; 401 without valid credentials, 429 past the rate limit."""
    auth = request.headers.get("authorization", "")
    scheme, _, token = auth.partition(" ")
    token = token.strip() if scheme.lower() == "bearer" else ""
    token = token or request.cookies.get(COOKIE, "")
    if token.startswith("vs_"):
        item = st.sessions.get(token)
        if item is None or item.session is None:
            raise ApiError(401, "VEIL-411", "the session expired or is unknown: log in again")
        if not st.limiter.allow(item.session.principal):
            raise ApiError(429, "VEIL-429", "too many requests: slow down")
        return item.session
    if not token.startswith("veil_"):
        raise ApiError(401, "VEIL-411", "authentication needed: 'Authorization: Bearer veil_...' (a Veil API key)")
    session = await _session_of(st, token, request.headers.get("x-veil-totp"))
    if not st.limiter.allow(session.principal):
        raise ApiError(429, "VEIL-429", "too many requests: slow down")
    return session


async def _session_of(st: State, key: str, totp: str | None) -> Session:
    if totp:  # a one-off privileged call: the code is checked (and used up) every time
        try:
            return await run_in_threadpool(st.access.authenticate, key, totp)
        except AccessDenied as exc:
            raise ApiError(401, "VEIL-411", exc.message) from None
    fresh = st.principals.fresh(key)
    if fresh is not None:
        return fresh
    try:
        return await run_in_threadpool(st.principals.verify, key)
    except AccessDenied as exc:
        raise ApiError(401, "VEIL-411", exc.message) from None


PrincipalDep = Annotated[Session, Depends(principal)]


def allowed(permission: str) -> Callable[..., Any]:
    """A dependency: the caller, if their role allows ``permission`` (with TOTP if privileged); 403 otherwise."""

    async def check(request: Request, session: PrincipalDep, st: StateDep) -> Session:
        purpose = request.headers.get("x-veil-purpose") or request.query_params.get("purpose") or ""
        await run_in_threadpool(st.access.authorize, session, permission, purpose=purpose)
        return session

    return check

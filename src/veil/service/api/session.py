"""``/v1/session``: an API key and a TOTP code exchanged for a session token (privileged calls for its life
without a new code each time); ``DELETE`` ends it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from veil.errors import AccessDenied
from veil.service.deps import StateDep
from veil.service.errors import ApiError

router = APIRouter(prefix="/v1/session", tags=["session"])


class LoginIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    api_key: str = Field(min_length=10, max_length=300)
    totp: str | None = Field(default=None, max_length=10)


def login(st: Any, api_key: str, totp: str | None, where: str) -> Any:
    """A new server-side session for valid credentials (with MFA when a TOTP code was accepted)."""
    if not st.limiter.allow(f"login:{where}"):
        raise ApiError(429, "VEIL-429", "too many login attempts: wait a minute")
    try:
        session = st.access.authenticate(api_key.strip(), (totp or "").strip() or None)
    except AccessDenied as exc:
        raise ApiError(401, "VEIL-411", exc.message) from None
    st.vault.audit.append(session.principal, "session.login", mfa=session.mfa, via=where.split(":")[0])
    return st.sessions.create(session)


@router.post("")
async def create(body: LoginIn, request: Request, st: StateDep) -> dict[str, Any]:
    host = request.client.host if request.client else "?"
    item = await run_in_threadpool(login, st, body.api_key, body.totp, f"api:{host}")
    return {"token": item.token, "principal": item.session.principal, "mfa": item.session.mfa,
            "expires_in": int(st.sessions.ttl)}  # fmt: skip


@router.delete("")
async def delete(request: Request, st: StateDep) -> dict[str, str]:
    _, _, token = request.headers.get("authorization", "").partition(" ")
    st.sessions.drop(token.strip())
    return {"status": "ended"}

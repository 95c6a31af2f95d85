"""The privacy center (``/center``): a person proves control of their e-mail with a one-time code, then sees
and changes their consents, asks for their data or its erasure, and downloads their bundle when it is ready.

Every action goes through the same consent ledger and request flow as the CLI. The answer to "send me a code"
is the same whether the address is known or not (no enumeration); codes are six digits, hashed in memory, valid
for ``service.center.code_minutes``, five tries; sending is rate-limited per address and per client.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import smtplib
import time
from email.message import EmailMessage
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response
from starlette.concurrency import run_in_threadpool

from veil.errors import ConfigError, InputError, VeilError
from veil.service.security import WebSession, csrf_ok
from veil.service.web.common import render, st_of

router = APIRouter(prefix="/center", include_in_schema=False)
CENTER_COOKIE = "veil_center"
_CODES: dict[str, tuple[str, str, float, int]] = {}  # session token -> (identifier, code hash, expiry, tries left)


def _session(request: Request) -> WebSession:
    """The visitor's center session (made on first visit: it carries the CSRF token before any login)."""
    st = st_of(request)
    item = st.sessions.get(request.cookies.get(CENTER_COOKIE))
    return item if item is not None and item.session is None else st.sessions.create()


def _page(request: Request, template: str, item: WebSession, status: int = 200, **ctx: Any) -> Response:
    st = st_of(request)
    resp = render(request, template, item, status=status, center=st.policy.service.center, **ctx)
    resp.set_cookie(CENTER_COOKIE, item.token, httponly=True, samesite="strict", secure=st.settings.tls,
                    path="/center", max_age=int(st.sessions.ttl))  # fmt: skip
    return resp


def _digest(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def send_code(st: Any, to: str, code: str) -> None:
    smtp = st.policy.service.smtp
    if smtp is None:
        raise ConfigError("the privacy center has no mail server (service.smtp in the policy)")
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = smtp.sender, to, f"{st.policy.service.center.title}: your code"
    minutes = st.policy.service.center.code_minutes
    msg.set_content(f"Your one-time code is {code}. It is valid for {minutes} minutes.\n"
                    "If you did not ask for it, ignore this message.")  # fmt: skip
    import os

    with smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout_seconds) as server:
        if smtp.starttls:
            server.starttls()
        if smtp.username:
            server.login(smtp.username, os.environ.get(smtp.password_env, ""))
        server.send_message(msg)


@router.get("")
async def start(request: Request) -> Response:
    item = _session(request)
    if item.subject:
        return await me(request)
    return _page(request, "center_start.html", item)


@router.post("/code")
async def code(request: Request) -> Response:
    st = st_of(request)
    item = _session(request)
    form = await request.form()
    if not csrf_ok(item, str(form.get("csrf", ""))):
        return _page(request, "center_start.html", item, status=403, error="the form expired: try again")
    email = str(form.get("email", "")).strip()
    host = request.client.host if request.client else "?"
    gov = st.governor("privacy-center")
    try:
        sid = gov.subjects.subject_id(email, "email")
    except InputError:
        return _page(request, "center_start.html", item, status=400, error="enter an e-mail address")
    if not (st.limiter.allow(f"center-mail:{sid}") and st.limiter.allow(f"center-ip:{host}")):
        return _page(request, "center_start.html", item, status=429, error="too many codes asked: wait a minute")
    fresh = st.sessions.create()  # a new session for the new address (nothing carried over)
    st.sessions.drop(item.token)
    number = f"{secrets.randbelow(10**6):06d}"
    if len(_CODES) > 10_000:  # codes nobody entered: dropped once expired, so the table cannot grow without end
        now = time.time()
        for token in [t for t, v in _CODES.items() if v[2] < now]:
            _CODES.pop(token, None)
    _CODES[fresh.token] = (email, _digest(number), time.time() + 60 * st.policy.service.center.code_minutes, 5)
    try:
        await run_in_threadpool(send_code, st, email, number)
    except ConfigError as exc:
        return _page(request, "center_start.html", fresh, status=503, error=exc.message)
    except (OSError, smtplib.SMTPException):
        return _page(request, "center_start.html", fresh, status=503, error="the code could not be sent: try later")
    st.vault.audit.append("privacy-center", "center.code", subject=sid)
    return _page(request, "center_code.html", fresh)


@router.post("/verify")
async def verify(request: Request) -> Response:
    st = st_of(request)
    item = _session(request)
    form = await request.form()
    pending = _CODES.get(item.token)
    if not csrf_ok(item, str(form.get("csrf", ""))) or pending is None:
        return _page(request, "center_start.html", item, status=403, error="start again: ask for a new code")
    email, digest, expires, tries = pending
    given = str(form.get("code", "")).strip()
    if time.time() > expires or tries <= 0:
        _CODES.pop(item.token, None)
        return _page(request, "center_start.html", item, status=403, error="the code expired: ask for a new one")
    if not hmac.compare_digest(digest, _digest(given)):
        _CODES[item.token] = (email, digest, expires, tries - 1)
        return _page(request, "center_code.html", item, status=403, error=f"wrong code ({tries - 1} tries left)")
    _CODES.pop(item.token, None)
    subject = await run_in_threadpool(st.governor("privacy-center").subjects.register, email, "email")
    st.sessions.drop(item.token)
    signed_in = st.sessions.create(subject=subject.id, identifier=email)  # new token at login: no fixation
    st.vault.audit.append("privacy-center", "center.login", subject=subject.id)
    return await me(request, signed_in)


def _shown(st: Any) -> list[str]:
    chosen = st.policy.service.center.purposes
    return chosen if chosen is not None else [n for n, p in st.policy.purposes.items() if p.needs_consent]


async def me(request: Request, item: WebSession | None = None, **ctx: Any) -> Response:
    st = st_of(request)
    item = item or _session(request)
    if not item.subject:
        return _page(request, "center_start.html", item)
    gov = st.governor("privacy-center")
    state = gov.consent.state(item.subject)
    purposes = [(n, st.policy.purposes[n], state.get(n) == "grant") for n in _shown(st) if n in st.policy.purposes]
    mine = gov.requests.find(subject=item.subject)
    return _page(request, "center_me.html", item, purposes=purposes, requests=mine,
                 restricted=state.get("*") == "restrict", **ctx)  # fmt: skip


@router.post("/consent")
async def consent(request: Request) -> Response:
    st = st_of(request)
    item = _session(request)
    form = await request.form()
    purpose, action = str(form.get("purpose", "")), str(form.get("action", ""))
    if not item.subject or not csrf_ok(item, str(form.get("csrf", ""))) or action not in ("grant", "withdraw"):
        return _page(request, "center_start.html", item, status=403, error="sign in again")
    if purpose not in _shown(st):
        return await me(request, item, error="that purpose is not offered here")
    gov = st.governor("privacy-center")
    notice = st.policy.purposes[purpose].description
    await run_in_threadpool(lambda: gov.consent.record(
        item.subject, purpose, action, actor="privacy-center", source="privacy center",  # type: ignore[arg-type]
        notice_version=st.policy.service.center.notice_version, notice_text=notice))  # fmt: skip
    return await me(request, item, notice=f"{'granted' if action == 'grant' else 'withdrawn'}: {purpose}")


@router.post("/request")
async def request_(request: Request) -> Response:
    st = st_of(request)
    item = _session(request)
    form = await request.form()
    kind = str(form.get("type", ""))
    if not item.subject or not csrf_ok(item, str(form.get("csrf", ""))) or kind not in ("access", "erase"):
        return _page(request, "center_start.html", item, status=403, error="sign in again")
    gov = st.governor("privacy-center")

    def open_() -> str:
        req = gov.requests.open(item.subject, kind, jurisdiction=st.policy.governance.jurisdiction,  # type: ignore[arg-type]
                                actor="privacy-center", channel="privacy center")  # fmt: skip
        gov.verify(req.id, "e-mail one-time code (privacy center)")
        return req.id

    try:
        rid = await run_in_threadpool(open_)
    except VeilError as exc:
        return await me(request, item, error=exc.message)
    return await me(request, item, notice=f"request {rid} received: we answer by the date shown")


@router.get("/bundle/{rid}")
async def bundle(rid: str, request: Request) -> Response:
    st = st_of(request)
    item = _session(request)
    gov = st.governor("privacy-center")
    try:
        req = gov.requests.get(rid)
    except InputError:
        req = None
    from veil.governance.runner import bundle_path

    path = bundle_path(rid)
    if not item.subject or req is None or req.subject != item.subject or req.status != "done" or not path.exists():
        return _page(request, "center_start.html", item, status=404, error="no such bundle")  # the same for all
    st.vault.audit.append("privacy-center", "center.bundle", subject=item.subject, request=rid)
    return FileResponse(path, filename=f"{rid}.zip", media_type="application/zip")


@router.post("/logout")
async def logout(request: Request) -> Response:
    st = st_of(request)
    item = _session(request)
    st.sessions.drop(item.token)
    fresh = st.sessions.create()
    return _page(request, "center_start.html", fresh, notice="signed out")

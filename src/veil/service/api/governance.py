"""``/v1/consent``, ``/v1/dsar``, ``/v1/ropa``, ``/v1/dpia``, ``/v1/breaches``: every governance action.

Identifiers travel in request bodies, never in URLs (paths end up in access logs). A request is seen only by
principals with the ``governance`` permission; running one needs ``export`` (access) or ``erase``, with TOTP.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends
from fastapi.responses import FileResponse, HTMLResponse, PlainTextResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from veil.errors import InputError
from veil.service.deps import StateDep, allowed
from veil.vault.access import Session

router = APIRouter(prefix="/v1", tags=["governance"])
Gov = Annotated[Session, Depends(allowed("governance"))]
Identifier = Annotated[str, Field(min_length=1, max_length=320)]


class ConsentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    subject: Identifier
    purpose: str
    action: Literal["grant", "withdraw", "lift"]
    source: str = Field(default="api", max_length=200)
    notice_version: str = Field(default="", max_length=100)
    notice_text: str | None = Field(default=None, max_length=200_000)


class SubjectIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    subject: Identifier


class RequestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    subject: Identifier
    type: Literal["access", "portability", "erase", "rectify", "restrict"]
    field: str | None = None
    value: str | None = Field(default=None, max_length=1000)
    channel: str = Field(default="api", max_length=200)
    received: datetime | None = None


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    method: str = Field(min_length=1, max_length=500)


class BreachIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str = Field(min_length=1, max_length=300)
    sources: list[str] = Field(min_length=1)
    detected: datetime | None = None
    description: str = Field(default="", max_length=5000)


class BreachUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str = Field(min_length=1, max_length=2000)
    authority_notified: bool = False
    subjects_notified: bool = False
    no_subject_notice: str = ""
    close: bool = False


@router.post("/consent")
async def consent(body: ConsentIn, st: StateDep, who: Gov) -> dict[str, Any]:
    gov = st.governor(who.principal)
    purpose = "*" if body.action == "lift" else body.purpose

    def record() -> dict[str, Any]:
        sid = gov.subjects.register(body.subject).id
        event = gov.consent.record(sid, purpose, body.action, actor=who.principal, source=body.source,
                                   notice_version=body.notice_version, notice_text=body.notice_text)  # fmt: skip
        return event.to_dict()

    return await run_in_threadpool(record)


@router.post("/consent/show")
async def consent_show(body: SubjectIn, st: StateDep, who: Gov) -> dict[str, Any]:
    gov = st.governor(who.principal)
    sid = gov.subjects.resolve(body.subject).id
    return {"subject": sid, "state": gov.consent.state(sid),
            "purposes": {p: gov.consent.has(sid, p) for p in st.policy.purposes},
            "history": [e.to_dict() for e in gov.consent.history(sid)]}  # fmt: skip


@router.post("/dsar")
async def dsar_open(body: RequestIn, st: StateDep, who: Gov) -> dict[str, Any]:
    gov = st.governor(who.principal)
    params = {"target": body.field, "value": body.value} if body.type == "rectify" else None

    def open_() -> dict[str, Any]:
        sid = gov.subjects.register(body.subject).id
        req = gov.requests.open(sid, body.type, jurisdiction=st.policy.governance.jurisdiction, actor=who.principal,
                                params=params, received=body.received, channel=body.channel)  # fmt: skip
        return req.to_dict()

    return await run_in_threadpool(open_)


@router.get("/dsar")
async def dsar_list(st: StateDep, who: Gov, overdue: bool = False, status: str | None = None) -> list[dict[str, Any]]:
    return [r.to_dict() for r in st.governor(who.principal).requests.find(status=status, overdue=overdue)]


@router.get("/dsar/{rid}")
async def dsar_show(rid: str, st: StateDep, who: Gov) -> dict[str, Any]:
    return st.governor(who.principal).requests.get(rid).to_dict()


@router.post("/dsar/{rid}/verify")
async def dsar_verify(rid: str, body: NoteIn, st: StateDep, who: Gov) -> dict[str, Any]:
    return (await run_in_threadpool(st.governor(who.principal).verify, rid, body.method)).to_dict()


@router.post("/dsar/{rid}/refuse")
async def dsar_refuse(rid: str, body: NoteIn, st: StateDep, who: Gov) -> dict[str, Any]:
    return (await run_in_threadpool(st.governor(who.principal).refuse, rid, body.method)).to_dict()


@router.post("/dsar/{rid}/run")
async def dsar_run(rid: str, st: StateDep, who: Gov) -> dict[str, Any]:
    gov = st.governor(who.principal)
    kind = gov.requests.get(rid).type
    st.access.authorize(who, "export" if kind in ("access", "portability") else "erase")
    return (await run_in_threadpool(gov.run, rid)).to_dict()


@router.get("/dsar/{rid}/bundle")
async def dsar_bundle(rid: str, st: StateDep, who: Annotated[Session, Depends(allowed("export"))]) -> FileResponse:
    req = st.governor(who.principal).requests.get(rid)
    from veil.governance.runner import bundle_path

    path = bundle_path(req.id)
    if req.status != "done" or req.type not in ("access", "portability") or not path.exists():
        raise InputError(f"request {req.id} has no bundle")
    st.vault.audit.append(who.principal, "dsar.bundle.download", subject=req.subject, request=req.id)
    return FileResponse(path, filename=f"{req.id}.zip", media_type="application/zip")


def _document(doc: dict[str, Any], document: Any, fmt: str) -> Response:
    if fmt == "json":
        return Response(content=__import__("json").dumps(doc, default=str), media_type="application/json")
    if fmt == "html":
        return HTMLResponse(document.html())
    return PlainTextResponse(document.markdown(), media_type="text/markdown")


Format = Literal["json", "markdown", "html"]


@router.get("/ropa")
async def ropa(st: StateDep, who: Gov, format: Format = "json") -> Response:
    from veil.governance.records import ropa as build
    from veil.governance.records import ropa_document

    doc = await run_in_threadpool(build, st.governor(who.principal))
    return _document(doc, ropa_document(doc), format)


@router.get("/dpia/{purpose}")
async def dpia(purpose: str, st: StateDep, who: Gov, format: Format = "json") -> Response:
    from veil.governance.dpia import dpia as build
    from veil.governance.dpia import dpia_document

    doc = await run_in_threadpool(build, st.governor(who.principal), purpose)
    return _document(doc, dpia_document(doc), format)


def _breaches(st: Any, who: Session) -> Any:
    from veil.governance.breach import Breaches

    return Breaches(st.governor(who.principal))


@router.post("/breaches")
async def breach_open(body: BreachIn, st: StateDep, who: Gov) -> dict[str, Any]:
    reg = _breaches(st, who)
    b = await run_in_threadpool(lambda: reg.open(body.title, body.sources, detected=body.detected,
                                                 description=body.description, actor=who.principal))  # fmt: skip
    return dict(b.to_dict())


@router.get("/breaches")
async def breach_list(st: StateDep, who: Gov, overdue: bool = False) -> list[dict[str, Any]]:
    return [b.to_dict() for b in _breaches(st, who).find(overdue=overdue)]


@router.post("/breaches/{bid}")
async def breach_update(bid: str, body: BreachUpdate, st: StateDep, who: Gov) -> dict[str, Any]:
    reg = _breaches(st, who)
    b = reg.update(bid, body.note, actor=who.principal, authority_notified=body.authority_notified,
                   subjects_notified=body.subjects_notified, no_subject_notice=body.no_subject_notice,
                   close=body.close)  # fmt: skip
    return dict(b.to_dict())

"""``/v1/scan``, ``/v1/anonymize``, ``/v1/restore``: text in, findings / anonymized text / originals out."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from veil.service.deps import PrincipalDep, StateDep, allowed
from veil.vault.access import Session

router = APIRouter(prefix="/v1", tags=["text"])
MAX_TEXT = 1_000_000


class ScanIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(max_length=MAX_TEXT)
    profile: str | None = Field(default=None, pattern="^(general|clinical|chat)$")
    values: bool = Field(default=True, description="include each finding's text (false: positions only)")


class ScanOut(BaseModel):
    findings: list[dict[str, Any]]
    count: int


class AnonymizeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(max_length=MAX_TEXT)
    purpose: str | None = None


class RestoreIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(max_length=MAX_TEXT)
    purpose: str = ""


def scan_text(st: Any, text: str, profile: str | None, values: bool) -> dict[str, Any]:
    findings = st.detector_for(profile).detect(text)
    return {"findings": [f.to_dict(include_value=values) for f in findings], "count": len(findings)}


@router.post("/scan", response_model=ScanOut)
async def scan(body: ScanIn, st: StateDep, _who: PrincipalDep) -> Response:
    """Personal data in a text: each finding with its entity, span, score and why (recognizer, evidence)."""
    if len(body.text) <= 2_000 and body.profile is None:  # a short text: detection costs less than a thread hop
        doc = scan_text(st, body.text, None, body.values)
    else:
        doc = await run_in_threadpool(scan_text, st, body.text, body.profile, body.values)
    return Response(json.dumps(doc, ensure_ascii=False), media_type="application/json")  # no re-encoding pass


@router.post("/anonymize")
async def anonymize(
    body: AnonymizeIn, st: StateDep, who: Annotated[Session, Depends(allowed("tokenize"))]
) -> dict[str, Any]:
    """The text anonymized by the policy (for a purpose: what it may keep stays); tokens go to the vault."""
    if body.purpose is not None:
        st.access.authorize(who, "tokenize", purpose=body.purpose)
    result = await run_in_threadpool(st.anonymizer.anonymize, body.text, body.purpose)
    items = [{"entity": i.entity, "operator": i.operator, "start": i.start, "end": i.end} for i in result.items]
    return {"text": result.text, "items": items}


@router.post("/restore")
async def restore(body: RestoreIn, st: StateDep, who: PrincipalDep) -> dict[str, Any]:
    """Originals of the tokens in a text, as the caller's role allows: full, masked, or left as tokens."""
    from veil.detect.plausible import plausible_entities
    from veil.vault.access import AccessControl

    def work() -> dict[str, Any]:
        tokens = st.anonymizer.tokens_in(body.text)
        ac = AccessControl(st.vault, classify=plausible_entities)
        values = ac.detokenize(who, st.policy.scope, tokens, purpose=body.purpose) if tokens else {}
        text = st.anonymizer.restore(body.text, audit=False, known=values)
        return {"text": text, "restored": len(values), "tokens": len(set(tokens))}

    return await run_in_threadpool(work)

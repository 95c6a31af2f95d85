"""``/v1/audit``: the chain's verification and the log's export (JSON Lines), for ``audit:read``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from veil.service.deps import StateDep, allowed
from veil.vault.access import Session

router = APIRouter(prefix="/v1/audit", tags=["audit"])
Reader = Annotated[Session, Depends(allowed("audit:read"))]


@router.get("/verify")
async def verify(st: StateDep, who: Reader) -> dict[str, Any]:
    result = await run_in_threadpool(st.vault.audit.verify)
    st.vault.audit.append(who.principal, "audit.verify", result="ok" if result.ok else "broken", records=result.records)
    return {"ok": result.ok, "records": result.records, "first_bad": result.first_bad, "problem": result.problem}


@router.get("/export")
async def export(st: StateDep, who: Reader) -> StreamingResponse:
    st.vault.audit.append(who.principal, "audit.export")

    def lines() -> Iterator[str]:
        for line in st.vault.audit.export():
            yield line + "\n"

    return StreamingResponse(lines(), media_type="application/x-ndjson")

"""``/v1/alerts``: what the monitor raised (``veil monitor``), listed and acknowledged by ``audit:read``.

Acknowledging teaches the monitor that what an alert flagged is normal for its principal, so an alert about the
caller is acknowledged by someone else (403), and every acknowledgement is an audit record.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from veil.service.deps import StateDep, allowed
from veil.vault.access import Session

router = APIRouter(prefix="/v1/alerts", tags=["monitor"])
Reader = Annotated[Session, Depends(allowed("audit:read"))]


class AckIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str = Field(default="", max_length=1000)


@router.get("")
async def list_alerts(
    st: StateDep,
    who: Reader,
    status: Literal["open", "acked", "all"] = "open",
    kind: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> dict[str, Any]:
    from veil.monitor.store import AlertStore

    rows = await run_in_threadpool(AlertStore(st.vault.engine).list, None if status == "all" else status, kind, limit)
    return {"alerts": rows}


@router.post("/{alert_id}/ack")
async def ack(st: StateDep, who: Reader, alert_id: int, body: AckIn | None = None) -> dict[str, Any]:
    from veil.monitor.store import acknowledge

    row = await run_in_threadpool(acknowledge, st.vault, alert_id, who.principal, body.note if body else "")
    return {"id": alert_id, "kind": row["kind"], "key": row["key"], "status": "acked", "acked_by": who.principal}

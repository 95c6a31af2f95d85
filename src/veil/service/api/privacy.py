"""``/v1/risk``, ``/v1/dp/query``, ``/v1/dp/budgets``: re-identification risk and differentially private
statistics on an uploaded table or a governance source's table, charged to the ledger."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, UploadFile
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from veil.errors import ConfigError
from veil.service.api.tables import SUFFIXES, source_table
from veil.service.deps import PrincipalDep, StateDep, allowed
from veil.service.state import State
from veil.vault.access import Session

router = APIRouter(prefix="/v1", tags=["privacy"])


async def _frame(st: State, file: UploadFile | None, source: str | None, table: str | None) -> Any:
    from veil.tabular.frames import locate, read_frame

    if file is not None:
        suffix = Path(file.filename or "x.csv").suffix.lower()
        if suffix not in SUFFIXES:
            raise ConfigError(f"upload a {', '.join(SUFFIXES)} file")
        with tempfile.NamedTemporaryFile(suffix=suffix, dir=st.work_dir) as tmp:
            tmp.write(await file.read())
            tmp.flush()
            return await run_in_threadpool(read_frame, locate(tmp.name, None, None, None))
    return await run_in_threadpool(read_frame, locate(source_table(st, source, table), None, None, None))


FileOpt = Annotated[UploadFile | None, File()]
FormOpt = Annotated[str | None, Form()]


@router.post("/risk")
async def risk(
    st: StateDep, _who: PrincipalDep, qi: Annotated[str, Form()], file: FileOpt = None, source: FormOpt = None,
    table: FormOpt = None, threshold: Annotated[float, Form()] = 0.2,
) -> dict[str, Any]:  # fmt: skip
    """Re-identification risk of a table on its quasi-identifiers (comma-separated ``qi``)."""
    from veil.tabular.privacy.risk import assess

    frame = await _frame(st, file, source, table)
    qis = [q.strip() for q in qi.split(",") if q.strip()]
    result = await run_in_threadpool(lambda: assess(frame, qis, threshold=threshold).to_dict())
    return {"quasi_identifiers": qis, "risk": result}


@router.post("/dp/query")
async def dp_query(
    st: StateDep, who: PrincipalDep, dataset: Annotated[str, Form()], query: Annotated[str, Form()],
    epsilon: Annotated[float, Form()], file: FileOpt = None, source: FormOpt = None, table: FormOpt = None,
    bounds: Annotated[str, Form(description='JSON {"age": [17, 90]}')] = "{}",
    keys: Annotated[str, Form(description='JSON {"sex": ["F", "M"]}')] = "{}",
    delta: Annotated[float, Form()] = 0.0,
) -> dict[str, Any]:  # fmt: skip
    """One differentially private statistic, charged to the dataset's budget first (never overspent)."""
    from veil.dp import Ledger, PlannedQuery, parse_query

    try:
        bound_map = {k: (float(v[0]), float(v[1])) for k, v in json.loads(bounds).items()}
        key_map = {k: [str(x) for x in v] for k, v in json.loads(keys).items()}
    except (ValueError, TypeError, IndexError, AttributeError):
        raise ConfigError('bounds and keys are JSON objects: {"age": [17, 90]}, {"sex": ["F", "M"]}') from None
    frame = await _frame(st, file, source, table)
    planned = PlannedQuery(frame, parse_query(query), epsilon=epsilon, delta=delta, bounds=bound_map, keys=key_map)

    def release() -> dict[str, Any]:
        out = planned.release(Ledger.of(st.vault), dataset, actor=who.principal)
        return {"dataset": dataset, "values": out.values.to_dicts(), "remaining_epsilon": out.remaining_epsilon,
                "expected_error": [e.to_dict() for e in planned.expected_error()]}  # fmt: skip

    return await run_in_threadpool(release)


class BudgetIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    epsilon: float = Field(gt=0)
    delta: float = Field(default=0.0, ge=0, lt=1)


@router.get("/dp/budgets")
async def budgets(st: StateDep, _who: PrincipalDep) -> list[dict[str, Any]]:
    from veil.dp import Ledger

    return [b.to_dict() for b in await run_in_threadpool(Ledger.of(st.vault).datasets)]


@router.put("/dp/budgets/{dataset}")
async def set_budget(
    dataset: str, body: BudgetIn, st: StateDep, who: Annotated[Session, Depends(allowed("admin"))]
) -> dict[str, Any]:
    from veil.dp import Ledger

    ledger = Ledger.of(st.vault)
    budget = await run_in_threadpool(ledger.set_budget, dataset, body.epsilon, body.delta, actor=who.principal)
    return budget.to_dict()

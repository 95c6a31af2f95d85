"""``/v1/he/score``: encrypted records scored with the service's model (``veil serve --he-model``); the client
sends its public context and ciphertexts, gets encrypted scores back. The service never sees a secret key."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from veil.errors import ConfigError
from veil.service.deps import PrincipalDep, StateDep

router = APIRouter(prefix="/v1/he", tags=["encrypted inference"])


class ScoreIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    context: str = Field(description="the public CKKS context, base64")
    batches: list[dict[str, Any]] = Field(min_length=1, max_length=64)


@router.post("/score")
async def score(body: ScoreIn, st: StateDep, who: PrincipalDep) -> dict[str, Any]:
    from veil.learn.he.model import load_model
    from veil.learn.he.params import load_context, unb64
    from veil.learn.he.scoring import EncryptedBatch
    from veil.learn.he.scoring import score as run

    if st.settings.he_model is None:
        raise ConfigError("this service has no encrypted-inference model (veil serve --he-model FILE)")
    model = load_model(st.settings.he_model)
    public = unb64(body.context)

    def work() -> list[dict[str, Any]]:
        ctx = load_context(public, server=True)
        return [run(public, model, EncryptedBatch.from_dict(b), ctx=ctx, audit=st.vault.audit,
                    actor=who.principal).to_dict() for b in body.batches]  # fmt: skip

    return {"scores": await run_in_threadpool(work)}

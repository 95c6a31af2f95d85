"""hash: keyed HMAC-SHA256 under the scope's vault key (never an unsalted hash, which is reversible by lookup)."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import Field

from veil.transform.base import Operator, OperatorParams, TransformContext, register


class HashParams(OperatorParams):
    length: int = Field(default=16, ge=8, le=64, description="hex characters kept")
    prefix: str = ""


@register
class Hash(Operator):
    name = "hash"
    Params = HashParams

    def apply_many(self, values: Sequence[str], entity: str, ctx: TransformContext) -> list[str]:
        assert isinstance(self.params, HashParams)
        vault = ctx.require_vault(self.name)
        n, prefix = self.params.length, self.params.prefix
        tag = entity.encode() + b"\x1f"
        digests = vault.keyed_hashes(ctx.scope, [tag + v.encode("utf-8", "surrogatepass") for v in values])
        return [prefix + d.hex()[:n] for d in digests]

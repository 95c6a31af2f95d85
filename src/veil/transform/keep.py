"""keep: leave the value as it is (used for purposes that need it)."""

from __future__ import annotations

from collections.abc import Sequence

from veil.transform.base import Operator, OperatorParams, TransformContext, register


class KeepParams(OperatorParams):
    pass


@register
class Keep(Operator):
    name = "keep"
    Params = KeepParams

    def apply_many(self, values: Sequence[str], entity: str, ctx: TransformContext) -> list[str]:
        return list(values)

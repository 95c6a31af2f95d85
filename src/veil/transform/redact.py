"""redact: remove the value entirely."""

from __future__ import annotations

from collections.abc import Sequence

from veil.transform.base import Operator, OperatorParams, TransformContext, register


class RedactParams(OperatorParams):
    pass


@register
class Redact(Operator):
    name = "redact"
    Params = RedactParams

    def apply_many(self, values: Sequence[str], entity: str, ctx: TransformContext) -> list[str]:
        return ["" for _ in values]

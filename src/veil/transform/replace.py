"""replace: a fixed text, by default ``<ENTITY>``."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import field_validator

from veil.transform.base import Operator, OperatorParams, TransformContext, register


class ReplaceParams(OperatorParams):
    value: str = "<{entity}>"  # "{entity}" is replaced by the entity type

    @field_validator("value")
    @classmethod
    def _only_entity_field(cls, v: str) -> str:
        try:
            v.format(entity="X")
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(f"only {{entity}} may appear in braces ({exc})") from None
        return v


@register
class Replace(Operator):
    name = "replace"
    Params = ReplaceParams

    def apply_many(self, values: Sequence[str], entity: str, ctx: TransformContext) -> list[str]:
        assert isinstance(self.params, ReplaceParams)
        out = self.params.value.format(entity=entity)
        return [out for _ in values]

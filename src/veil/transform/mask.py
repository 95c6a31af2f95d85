"""mask: overwrite characters with a mask character, keeping separators and optionally some characters."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import Field

from veil.transform.base import Operator, OperatorParams, TransformContext, register


class MaskParams(OperatorParams):
    char: str = Field(default="*", min_length=1, max_length=1)
    keep_first: int = Field(default=0, ge=0)
    keep_last: int = Field(default=0, ge=0)
    count: int | None = Field(default=None, ge=1, description="mask at most this many characters")
    from_end: bool = False  # with count: mask the last characters instead of the first
    keep_separators: str = " -./()@_+:"  # characters left as they are (format stays readable)


@register
class Mask(Operator):
    name = "mask"
    Params = MaskParams

    def apply_many(self, values: Sequence[str], entity: str, ctx: TransformContext) -> list[str]:
        return [self._mask(v) for v in values]

    def _mask(self, value: str) -> str:
        p = self.params
        assert isinstance(p, MaskParams)
        positions = [i for i, ch in enumerate(value) if ch not in p.keep_separators]
        if len(positions) <= p.keep_first + p.keep_last:
            maskable = positions  # keeping that much would reveal the whole value: mask it all
        else:
            maskable = positions[p.keep_first : len(positions) - p.keep_last]
        if p.count is not None:
            maskable = maskable[-p.count :] if p.from_end else maskable[: p.count]
        chars = list(value)
        for i in maskable:
            chars[i] = p.char
        return "".join(chars)

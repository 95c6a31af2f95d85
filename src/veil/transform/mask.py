"""mask: overwrite characters with a mask character, keeping separators and optionally some characters."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from pydantic import Field

from veil.transform.base import Operator, OperatorParams, TransformContext, register

if TYPE_CHECKING:
    import polars as pl


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

    def apply_series(self, series: pl.Series, entity: str, ctx: TransformContext) -> pl.Series:
        """Vectorized for the common case (no separators in the values, no count): same result as ``_mask``."""
        import polars as pl

        p = self.params
        assert isinstance(p, MaskParams)
        values = series.cast(pl.Utf8)
        seps = "".join("\\" + ch if ch in "\\^]-[" else ch for ch in p.keep_separators)
        plain = values.str.contains(f"[{seps}]").not_() if seps else pl.Series([True] * values.len())
        if p.count is not None or not bool(plain.fill_null(True).all()):
            return super().apply_series(series, entity, ctx)
        n = values.str.len_chars()
        short = n <= p.keep_first + p.keep_last
        head = pl.when(short).then(pl.lit("")).otherwise(pl.col("v").str.head(p.keep_first))
        tail = pl.when(short).then(pl.lit("")).otherwise(pl.col("v").str.tail(p.keep_last))
        middle = pl.when(short).then(pl.col("n")).otherwise(pl.col("n") - p.keep_first - p.keep_last)
        longest = int(n.max() or 0)  # type: ignore[arg-type]
        frame = pl.DataFrame({"v": values, "n": n})
        out = frame.select(
            pl.when(pl.col("v").is_null())
            .then(pl.lit(None, dtype=pl.Utf8))
            .otherwise(pl.concat_str([head, pl.lit(p.char * longest).str.head(middle), tail]))
        ).to_series()
        return out.alias(series.name)

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

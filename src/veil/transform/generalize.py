"""generalize: coarser but still useful values.

* dates -> ``year`` (default), ``month`` (YYYY-MM) or ``decade`` (``1980s``);
* ages and other numbers -> bands of ``width`` (``30-39``);
* ZIP/postcodes -> the first ``digits`` characters (``940**``);
* street addresses -> city and state/region (``Mountain View, CA``), from the address block itself;
* GPS coordinates ``lat, lon`` -> rounded to ``decimals`` places.

A value that cannot be generalized (no year in a date, no city in an address) becomes ``<ENTITY>``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from veil.transform.base import Operator, OperatorParams, TransformContext, register

if TYPE_CHECKING:
    import polars as pl

_YEAR = re.compile(r"(?<!\d)(1[89]\d{2}|20\d{2})(?!\d)")
_ISO = re.compile(r"(?<!\d)(1[89]\d{2}|20\d{2})[-/.](0?[1-9]|1[0-2])(?:[-/.]\d{1,2})?(?!\d)")
_NUMERIC_DMY = re.compile(r"(?<!\d)(\d{1,2})[-/.](\d{1,2})[-/.](\d{2,4})(?!\d)")
_MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
_MONTH_WORD = re.compile(r"\b(" + "|".join(_MONTHS) + r")[a-z]*\.?", re.IGNORECASE)
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_COORD = re.compile(r"^\s*(-?\d{1,3}(?:\.\d+)?)\s*[,;\s]\s*(-?\d{1,3}(?:\.\d+)?)\s*$")
_POSTCODE_TOKEN = re.compile(
    r"^(?:\d{4,6}(?:-\d{4})?|\d{3} ?\d{2}|\d{2}-\d{3}|[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2})$", re.I
)
_UNIT = re.compile(r"^(?:apt|apartment|suite|ste|unit|flat|floor|fl|room|rm|#)\b", re.IGNORECASE)
_REGION_ZIP = re.compile(r"^(.*?)[ \t]+(?:\d{4,6}(?:-\d{4})?|\d{2}-\d{3})$")  # "CA 94043" -> "CA"
_ZIP_CITY = re.compile(r"^(?:\d{4,6}|\d{2}-\d{3}|\d{3} \d{2})[ \t]+(.+)$")  # "10115 Berlin" -> "Berlin"


class GeneralizeParams(OperatorParams):
    date: Literal["year", "month", "decade"] = "year"
    width: int = Field(default=10, ge=1, description="band width for ages and other numbers")
    digits: int = Field(default=3, ge=0, le=10, description="postcode characters kept")
    decimals: int = Field(default=1, ge=0, le=6, description="decimal places kept for coordinates")


def generalize_date(value: str, level: str) -> str | None:
    m = _ISO.search(value)
    year: int | None = None
    month: int | None = None
    if m:
        year, month = int(m.group(1)), int(m.group(2))
    else:
        n = _NUMERIC_DMY.search(value)
        if n:
            a, b, c = int(n.group(1)), int(n.group(2)), int(n.group(3))
            year = c + (2000 if c < 50 else 1900) if c < 100 else c
            month = b if a > 12 else a if b > 12 else None  # day first or month first; unknown if both <= 12
        else:
            y = _YEAR.search(value)
            year = int(y.group(1)) if y else None
            w = _MONTH_WORD.search(value)
            month = _MONTHS.index(w.group(1).lower()[:3]) + 1 if w else None
    if year is None:
        return None
    if level == "decade":
        return f"{year // 10 * 10}s"
    if level == "month" and month is not None:
        return f"{year:04d}-{month:02d}"
    return f"{year:04d}"


def generalize_number(value: str, width: int) -> str | None:
    m = _NUMBER.search(value)
    if m is None:
        return None
    n = int(float(m.group()))
    low = n // width * width
    return f"{low}-{low + width - 1}" if width > 1 else str(n)


def generalize_postcode(value: str, digits: int) -> str:
    core = value.strip()
    kept = core[:digits]
    return kept + "".join("*" if ch.isalnum() else ch for ch in core[digits:])


def generalize_address(value: str) -> str | None:
    """City and region of an address block: the parts after the street line, units and postcodes dropped."""
    parts = [p.strip() for p in re.split(r"[,\n]", value) if p.strip()]
    kept = []
    for part in parts[1:]:
        if _UNIT.match(part) or _POSTCODE_TOKEN.match(part):
            continue
        m = _REGION_ZIP.match(part) or _ZIP_CITY.match(part)
        kept.append(m.group(1) if m else part)
    return ", ".join(kept) if kept else None


def generalize_coordinates(value: str, decimals: int) -> str | None:
    m = _COORD.match(value)
    if m is None:
        return None
    lat, lon = float(m.group(1)), float(m.group(2))
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    return f"{lat:.{decimals}f}, {lon:.{decimals}f}"


@register
class Generalize(Operator):
    name = "generalize"
    Params = GeneralizeParams

    def apply_many(self, values: Sequence[str], entity: str, ctx: TransformContext) -> list[str]:
        return [self._one(v, entity) or f"<{entity}>" for v in values]

    def apply_series(self, series: pl.Series, entity: str, ctx: TransformContext) -> pl.Series:
        """Vectorized for the common shapes (ISO dates, plain postcodes); other values take the per-value path,
        so the result is the same as :meth:`apply_many` on every value."""
        import polars as pl

        p = self.params
        assert isinstance(p, GeneralizeParams)
        values = series.cast(pl.Utf8)
        if entity == "DATE_TIME":
            fast = values.str.contains(r"^(?:1[89]\d{2}|20\d{2})-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])$")
            width = {"year": 4, "month": 7}.get(p.date)
            done = values.str.head(width) if width else values.str.head(3) + "0s"
        elif entity == "ZIP_CODE":
            fast = values.str.contains(r"^[0-9A-Za-z]+$")
            stars = pl.lit("*" * int(values.str.len_chars().max() or 0))  # type: ignore[arg-type]
            rest = (values.str.len_chars().cast(pl.Int64) - p.digits).clip(lower_bound=0)
            done = (
                pl.DataFrame({"v": values, "r": rest})
                .select(pl.concat_str([pl.col("v").str.head(p.digits), stars.str.head(pl.col("r"))]))
                .to_series()
            )
        else:
            return super().apply_series(series, entity, ctx)
        fast = fast.fill_null(False)
        out = done.zip_with(fast, pl.Series([None] * len(done), dtype=pl.Utf8))
        slow = (~fast & values.is_not_null()).arg_true()
        if slow.len():
            out = out.scatter(slow, super().apply_series(values.gather(slow), entity, ctx))
        return out.alias(series.name)

    def _one(self, value: str, entity: str) -> str | None:
        p = self.params
        assert isinstance(p, GeneralizeParams)
        if entity == "DATE_TIME":
            return generalize_date(value, p.date)
        if entity == "ZIP_CODE":
            return generalize_postcode(value, p.digits)
        if entity == "STREET_ADDRESS":
            return generalize_address(value)
        if entity in ("COORDINATES", "GPS"):
            return generalize_coordinates(value, p.decimals)
        if entity in ("AGE",) or _NUMBER.fullmatch(value.strip()):
            return generalize_number(value, p.width)
        return None

"""Re-identification risk of a table, as ARX and El Emam define it.

Records sharing their quasi-identifier values form an equivalence class of size f. Attacker models:

- prosecutor (the attacker knows the person is in the table): a record's risk is 1/f. Average = classes / rows,
  highest = 1 / smallest class, and the share of records whose risk exceeds a threshold.
- journalist (the attacker does not know; matches against a population table): a record's risk is 1/F with F the
  size of its class in the population (at least f). Without a population table it equals the prosecutor risk,
  the upper bound, and the report says so.
- marketer (re-identify as many as possible): the expected share of records matched correctly,
  (1/rows) * sum over classes of f/F; without a population it is classes / rows.

Sample uniques (records alone in their class) are reported too, and, given the sampling fraction, the estimated
share of population uniques (:mod:`veil.tabular.privacy.population`). Null cells count as a value of their own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import polars as pl

from veil.errors import ConfigError, InputError
from veil.extras import require_columns
from veil.tabular.privacy.hierarchy import TOP


@dataclass
class Risk:
    rows: int
    classes: int
    smallest_class: int
    threshold: float
    prosecutor_average: float
    prosecutor_highest: float
    records_at_risk: float  # share of records whose prosecutor risk exceeds the threshold
    sample_uniques: float  # share of records alone in their class
    journalist_average: float
    journalist_highest: float
    marketer: float
    population: str  # "table" when a population table was given, else "sample (upper bound)"
    population_uniqueness: dict[str, Any] | None = None  # estimated from a sampling fraction (Zayatz, Pitman)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def class_sizes(frame: pl.DataFrame, qis: Sequence[str]) -> pl.DataFrame:
    """The equivalence classes of ``frame`` on ``qis``: their values and a ``__f`` column of sizes."""
    require_columns(frame.columns, qis)
    if not qis:
        raise ConfigError("give at least one quasi-identifier")
    text = frame.select([pl.col(c).cast(pl.String) for c in qis])
    return text.group_by(list(qis)).agg(pl.len().alias("__f"))


def assess(
    frame: pl.DataFrame,
    qis: Sequence[str],
    *,
    threshold: float = 0.2,
    population: pl.DataFrame | None = None,
    sampling_fraction: float | None = None,
    population_model: str = "dankar",
) -> Risk:
    """Risk of ``frame`` for the quasi-identifiers ``qis``."""
    if not 0 < threshold <= 1:
        raise ConfigError("the risk threshold is a probability in (0, 1]")
    if frame.height == 0:
        raise InputError("the table has no rows")
    classes = class_sizes(frame, qis)
    f = classes["__f"].to_numpy().astype(np.float64)
    n = float(frame.height)
    prosecutor_avg = len(f) / n
    at_risk = float(f[1.0 / f > threshold].sum() / n)
    uniques = float(f[f == 1].sum() / n)
    journalist_avg, journalist_max, marketer = prosecutor_avg, float(1.0 / f.min()), prosecutor_avg
    source = "sample (upper bound)"
    if population is not None:
        pop = class_sizes(population, qis).rename({"__f": "__F"})
        joined = classes.join(pop, on=list(qis), how="left", nulls_equal=True)
        big_f = joined["__F"].fill_null(0).to_numpy().astype(np.float64)
        small_f = joined["__f"].to_numpy().astype(np.float64)
        big_f = np.maximum(big_f, small_f)  # the sample is part of the population
        journalist_avg = float((small_f / big_f).sum() / n)
        journalist_max = float((1.0 / big_f).max())
        marketer = journalist_avg
        source = "table"
    uniqueness = None
    if sampling_fraction is not None:
        from veil.tabular.privacy.population import estimate

        uniqueness = estimate(classes["__f"].to_list(), sampling_fraction, population_model).to_dict()
    return Risk(
        rows=int(n),
        classes=len(f),
        smallest_class=int(f.min()),
        threshold=threshold,
        prosecutor_average=prosecutor_avg,
        prosecutor_highest=float(1.0 / f.min()),
        records_at_risk=at_risk,
        sample_uniques=uniques,
        journalist_average=journalist_avg,
        journalist_highest=journalist_max,
        marketer=marketer,
        population=source,
        population_uniqueness=uniqueness,
    )


def suppressed(qis: Sequence[str]) -> pl.Expr:
    """True for rows whose every quasi-identifier is ``*`` (suppressed)."""
    return pl.all_horizontal([pl.col(c).cast(pl.String) == TOP for c in qis]).fill_null(False)


def smallest_class(frame: pl.DataFrame, qis: Sequence[str], *, ignore_suppressed: bool = True) -> int:
    """The k a table actually has on ``qis`` (rows whose quasi-identifiers are all ``*`` are ignored)."""
    classes = class_sizes(frame, qis)
    if ignore_suppressed:
        classes = classes.filter(~suppressed(qis))
    if classes.height == 0:
        return 0
    return int(classes["__f"].min())  # type: ignore[arg-type]

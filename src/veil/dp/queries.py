"""Private statistics on a table, built from OpenDP measurements (its polars front end).

A query is a short text::

    count                     count by state            histogram state
    sum income [by state]     mean income [by state]    variance income
    median income             quantile income 0.9

Numbers need bounds (``bounds={"income": (0, 200_000)}``): values are clamped to them, and they set the noise.
Veil refuses a query whose bounds are missing and names the column. Grouping needs the keys: either public
(``keys={"state": ["CA", "NY"]}``, released exactly those, zero counts included) or found privately, which needs a
delta: OpenDP's thresholded Laplace releases only groups whose noisy count clears a threshold.

Mechanisms (OpenDP picks and calibrates them; Veil never draws noise): counts and integer sums use the integer
(discrete) Laplace mechanism, real-valued sums the float Laplace with OpenDP's rounding-safe relaxation (its size
depends on ``max_rows``, a public bound on the number of rows), quantiles the exponential mechanism over candidates
spaced evenly inside the bounds; means and variances are post-processed from private sums and counts. With
``mechanism="gaussian"`` sums and counts get the (discrete) Gaussian under zCDP instead, charged as the
(epsilon, delta) OpenDP converts its rho to; the ledger records the rho as well.

Before anything is spent, :meth:`PlannedQuery.expected_error` gives each released aggregate's noise scale and the
half-width of its (1 - alpha) confidence interval; :func:`epsilon_for_error` finds the smallest epsilon whose error
is at most a target. :meth:`PlannedQuery.release` charges the ledger first and releases only if it fits.
"""

from __future__ import annotations

import copy
import math
import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from veil.dp.ledger import Ledger
from veil.errors import ConfigError, InputError
from veil.extras import require_columns
from veil.textio import shape

KINDS = ("count", "sum", "mean", "variance", "median", "quantile")
MECHANISMS = ("laplace", "gaussian")
DEFAULT_MAX_ROWS = 10_000_000
CANDIDATES = 1001


@dataclass
class QuerySpec:
    kind: str
    column: str | None = None
    by: list[str] = field(default_factory=list)
    quantile: float | None = None
    text: str = ""


_BY = re.compile(r"\s+by\s+", re.IGNORECASE)


def parse_query(text: str) -> QuerySpec:
    """Read ``count by state``, ``sum income``, ``quantile income 0.9``, ... (see the module help)."""
    raw = " ".join(text.split())
    if not raw:
        raise ConfigError("the query is empty", hint="e.g. 'count by state' or 'mean income'")
    parts = _BY.split(raw, maxsplit=1)
    head = parts[0]
    by_part = parts[1] if len(parts) > 1 else ""
    by = [c.strip() for c in by_part.split(",") if c.strip()]
    if len(parts) > 1 and not by:
        raise ConfigError(f"'{raw}': name the column(s) after 'by'")
    words = head.split(" ")
    kind = words[0].lower()
    if kind == "histogram":
        if len(words) != 2:
            raise ConfigError(f"'{raw}': histogram takes one column, e.g. 'histogram state'")
        return QuerySpec("count", None, [words[1], *by], None, raw)
    if kind not in KINDS:
        raise ConfigError(f"'{raw}': unknown statistic '{words[0]}'",
                          hint="count, sum, mean, variance, median, quantile or histogram")  # fmt: skip
    if kind == "count":
        if len(words) != 1:
            raise ConfigError(f"'{raw}': count takes no column (use 'count by COLUMN')")
        return QuerySpec("count", None, by, None, raw)
    if kind == "quantile":
        args = words[1:]
        level = [a for a in args if _is_level(a)]
        names = [a for a in args if not _is_level(a)]
        if len(level) != 1 or len(names) != 1:
            raise ConfigError(f"'{raw}': write 'quantile COLUMN Q' with Q between 0 and 1, e.g. 'quantile income 0.9'")
        if by:
            raise ConfigError(f"'{raw}': quantiles by group are not supported")
        return QuerySpec("quantile", names[0], [], float(level[0]), raw)
    if len(words) != 2:
        raise ConfigError(f"'{raw}': {kind} takes one column, e.g. '{kind} income'")
    if kind in ("variance", "median") and by:
        raise ConfigError(f"'{raw}': {kind} by group is not supported")
    if kind == "median":
        return QuerySpec("quantile", words[1], [], 0.5, raw)
    return QuerySpec(kind, words[1], by, None, raw)


def _is_level(word: str) -> bool:
    try:
        value = float(word)
    except ValueError:
        return False
    return 0 < value < 1


def _dp() -> Any:
    """OpenDP, with the features Veil uses enabled: ``contrib`` (the polars front end and its mechanisms).
    Floating-point noise is OpenDP's own rounding-safe implementation; no feature lets it cut corners."""
    try:
        import opendp.prelude as dp
    except ImportError:
        from veil.errors import MissingExtraError

        raise MissingExtraError("dp", "opendp") from None
    dp.enable_features("contrib")
    return dp


@dataclass
class Error:
    """The noise of one released aggregate, known before release."""

    column: str
    aggregate: str
    mechanism: str
    scale: float
    accuracy: float | None  # half-width of the (1 - alpha) interval; None when OpenDP gives none (quantiles)
    alpha: float
    threshold: int | None = None  # groups with a noisy count below this are not released (private keys)

    def to_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


@dataclass
class Release:
    values: pl.DataFrame
    errors: list[Error]
    epsilon: float
    delta: float
    spend_id: int | None
    remaining_epsilon: float | None = None
    remaining_delta: float | None = None


class PlannedQuery:
    """A query bound to a table, a privacy unit and a cost: inspect it, then release it once."""

    def __init__(
        self,
        frame: pl.DataFrame,
        spec: QuerySpec,
        *,
        epsilon: float,
        delta: float = 0.0,
        bounds: Mapping[str, tuple[float, float]] | None = None,
        keys: Mapping[str, Sequence[str]] | None = None,
        contributions: int = 1,
        max_rows: int = DEFAULT_MAX_ROWS,
        candidates: int = CANDIDATES,
        mechanism: str = "laplace",
    ) -> None:
        if mechanism not in MECHANISMS:
            raise ConfigError(f"mechanism must be one of {', '.join(MECHANISMS)}, not '{mechanism}'")
        if mechanism == "gaussian" and delta <= 0:
            raise ConfigError("Gaussian noise (zCDP) needs a delta: its privacy loss is stated as (epsilon, delta)")
        if not (math.isfinite(epsilon) and epsilon > 0):
            raise ConfigError(f"epsilon must be a positive number, not {epsilon!r}")
        if not 0 <= delta < 1:
            raise ConfigError(f"delta must be in [0, 1), not {delta!r}")
        if contributions < 1:
            raise ConfigError("contributions (rows one person may add) must be >= 1")
        if not 1 <= max_rows < 2**32:
            raise ConfigError("max_rows must be between 1 and 4,294,967,295")
        self.spec = spec
        self.epsilon = epsilon
        self.delta = delta
        self.contributions = contributions
        self.max_rows = max_rows
        self.candidates = candidates
        self.mechanism = mechanism
        require_columns(frame.columns, [spec.column, *spec.by])
        self.bounds = _bounds_for(spec, bounds or {})
        self.keys = _keys_for(spec, keys or {})
        if spec.by and self.keys is None and mechanism == "gaussian":
            raise ConfigError(
                "Gaussian noise is supported with public keys only (--keys); use Laplace for private keys"
            )
        if spec.by and self.keys is None and delta <= 0:
            raise ConfigError(
                f"'{spec.text}': grouping by {', '.join(spec.by)} without public keys needs a delta for private "
                "partition selection",
                hint="give --delta (e.g. 1e-6) or the public keys with --keys COLUMN=a,b,c",
            )
        if frame.height > max_rows:
            raise InputError(f"the table has more rows than max_rows={max_rows:,}", hint="raise --max-rows")
        self.data, self.integral = _prepare(frame, spec, self.bounds)
        self._measurements: dict[float, Any] = {}

    # -- OpenDP -----------------------------------------------------------------------------------------------
    def _query(self, epsilon: float) -> Any:
        dp = _dp()
        if self.mechanism == "gaussian":
            loss = dp.loss_of(rho=rho_for(epsilon, self.delta))
        elif self.delta > 0:
            loss = dp.loss_of(epsilon=epsilon, delta=self.delta)
        else:
            loss = dp.loss_of(epsilon=epsilon)
        context = dp.Context.compositor(
            data=self.data.lazy(),
            privacy_unit=dp.unit_of(contributions=self.contributions),
            privacy_loss=loss,
            split_evenly_over=1,
            margins=[dp.polars.Margin(max_length=self.max_rows)],
        )
        aggs = self._aggregates(dp)
        query = context.query()
        if self.spec.by:
            query = query.group_by(self.spec.by).agg(aggs)
            if self.keys is not None:
                query = query.with_keys(pl.DataFrame(self.keys).lazy())
        else:
            query = query.select(aggs)
        return query

    def at(self, epsilon: float) -> PlannedQuery:
        """The same query at another epsilon, sharing the prepared data and the calibrated measurements."""
        if not (math.isfinite(epsilon) and epsilon > 0):
            raise ConfigError(f"epsilon must be a positive number, not {epsilon!r}")
        other = copy.copy(self)
        other.epsilon = epsilon
        return other

    def measurement(self, epsilon: float | None = None) -> Any:
        """The OpenDP measurement of this query at ``epsilon`` (its noise calibrated by OpenDP), cached."""
        eps = self.epsilon if epsilon is None else epsilon
        if eps not in self._measurements:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # OpenDP's "epsilon is typically <= 1" while searching
                self._measurements[eps] = self._query(eps).resolve()
        return self._measurements[eps]

    def cost(self) -> tuple[float, float]:
        """(epsilon, delta) the measurement's own privacy map gives for one person's rows: what is charged.
        Gaussian (zCDP) measurements are converted by OpenDP at the query's delta."""
        measurement = self.measurement()
        if self.mechanism == "gaussian":
            dp = _dp()
            measurement = dp.c.make_fix_delta(dp.c.make_zCDP_to_approxDP(measurement), self.delta)
        loss = measurement.map(self.contributions)
        if isinstance(loss, tuple):
            return float(loss[0]), float(loss[1])
        return float(loss), 0.0

    def rho(self) -> float | None:
        """The zCDP cost of a Gaussian query (recorded in the ledger beside its (epsilon, delta))."""
        return float(self.measurement().map(self.contributions)) if self.mechanism == "gaussian" else None

    def _aggregates(self, dp: Any) -> list[Any]:
        spec = self.spec
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            count = dp.len().alias("count")
        if spec.kind == "count":
            return [count]
        assert spec.column is not None and self.bounds is not None
        lo, hi = self.bounds
        col: Any = pl.col(spec.column)  # OpenDP adds the .dp namespace
        if spec.kind == "sum":
            return ([count] if spec.by else []) + [col.dp.sum((lo, hi)).alias("sum")]
        if spec.kind == "mean":
            return [col.dp.sum((lo, hi)).alias("sum"), count]
        if spec.kind == "variance":
            top = max(lo * lo, hi * hi)
            low = 0 if lo <= 0 <= hi else min(lo * lo, hi * hi)
            squares: Any = pl.col("__veil_sq")
            return [count, col.dp.sum((lo, hi)).alias("sum"), squares.dp.sum((low, top)).alias("sum_sq")]
        step = (hi - lo) / (self.candidates - 1)
        grid = [lo + i * step for i in range(self.candidates)]
        if self.integral:
            grid = sorted({round(g) for g in grid})
        return [col.dp.quantile(spec.quantile, grid).alias(f"q{spec.quantile:g}")]

    # -- before spending ------------------------------------------------------------------------------------
    def expected_error(self, alpha: float = 0.05, epsilon: float | None = None) -> list[Error]:
        """Each aggregate's noise and (1 - alpha) error bound; spends nothing."""
        if not 0 < alpha < 1:
            raise ConfigError("alpha must be between 0 and 1")
        dp = _dp()
        table = dp.summarize_polars_measurement(self.measurement(epsilon), alpha=alpha)
        out = []
        for row in table.iter_rows(named=True):
            accuracy = row.get("accuracy")
            out.append(Error(row["column"], row["aggregate"], row["distribution"], float(row["scale"]),
                             None if accuracy is None else float(accuracy), alpha,
                             None if row.get("threshold") is None else int(row["threshold"])))  # fmt: skip
        return out

    # -- spending -------------------------------------------------------------------------------------------
    def release(self, ledger: Ledger | None, dataset: str, *, actor: str = "cli", alpha: float = 0.05) -> Release:
        """Charge (epsilon, delta) to the dataset's budget, then release. Without a ledger nothing is recorded:
        only for tests and simulations on synthetic data."""
        errors = self.expected_error(alpha)
        measurement = self.measurement()
        epsilon, delta = self.cost()
        spend_id = None
        if ledger is not None:
            mechanism = ", ".join(sorted({e.mechanism for e in errors}))
            spend_id = ledger.reserve(dataset, epsilon, delta, query=self.spec.text, mechanism=mechanism,
                                      rho=self.rho(), actor=actor)  # fmt: skip
        values = _post_process(self.spec, measurement(self.data.lazy()).collect(), self.bounds)
        result = Release(values, errors, epsilon, delta, spend_id)
        if ledger is not None:
            budget = ledger.budget(dataset)
            result.remaining_epsilon, result.remaining_delta = budget.remaining_epsilon, budget.remaining_delta
        return result


def rho_for(epsilon: float, delta: float) -> float:
    """The largest zCDP rho that OpenDP converts to at most (epsilon, delta): found by OpenDP's own search over a
    Gaussian measurement, so the conversion is OpenDP's (tighter than the textbook rho + 2 sqrt(rho log 1/delta))."""
    dp = _dp()

    def make(scale: float) -> Any:
        gaussian = dp.m.make_gaussian(dp.atom_domain(T=float, nan=False), dp.absolute_distance(T=float), scale)
        return dp.c.make_fix_delta(dp.c.make_zCDP_to_approxDP(gaussian), delta)

    scale = dp.binary_search_param(make, d_in=1.0, d_out=(epsilon, delta))
    return float(1 / (2 * scale * scale))


def epsilon_for_error(planned: PlannedQuery, target: float, alpha: float = 0.05) -> float:
    """The smallest epsilon at which every aggregate's error bound is at most ``target`` (nothing is spent).

    Laplace errors scale as 1/epsilon, so epsilon is rescaled from OpenDP's bound until it lands within 1 % of
    the target (float sums add a small constant, hence the few rounds); each round asks OpenDP, not a formula."""
    if not (math.isfinite(target) and target > 0):
        raise ConfigError("the target error must be a positive number")

    def worst(eps: float) -> float:
        errors = planned.expected_error(alpha, eps)
        if any(e.accuracy is None for e in errors):
            raise ConfigError(f"'{planned.spec.text}': OpenDP gives no error bound for quantiles; choose epsilon")
        return max(e.accuracy for e in errors if e.accuracy is not None)

    eps = planned.epsilon
    for _ in range(12):
        error = worst(eps)
        if error <= target and error >= 0.99 * target:
            return eps
        eps = eps * error / target * (1.0005 if error > target else 1.0)
        if eps > 1e4:
            raise ConfigError(f"no epsilon up to 10,000 reaches an error of {target:g}")
    while worst(eps) > target:  # never return an epsilon that misses the target
        eps *= 1.01
    return eps


def _bounds_for(spec: QuerySpec, bounds: Mapping[str, tuple[float, float]]) -> tuple[float, float] | None:
    if spec.kind == "count":
        return None
    assert spec.column is not None
    if spec.column not in bounds:
        raise ConfigError(
            f"'{spec.text}' needs bounds for '{spec.column}': values are clamped to them and they set the noise",
            hint=f"give --bounds {spec.column}=LOW:HIGH (public knowledge, not read from the data)",
        )
    lo, hi = bounds[spec.column]
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise ConfigError(f"bounds of '{spec.column}' must be finite with LOW < HIGH, not {lo}:{hi}")
    return float(lo), float(hi)


def _keys_for(spec: QuerySpec, keys: Mapping[str, Sequence[str]]) -> dict[str, list[str]] | None:
    if not spec.by:
        return None
    given = [c for c in spec.by if c in keys]
    if not given:
        return None
    if len(given) != len(spec.by):
        raise ConfigError(f"give public keys for every grouping column ({', '.join(spec.by)}) or for none")
    if len(spec.by) > 1:
        raise ConfigError("public keys are supported for one grouping column; use private keys (--delta) for more")
    values = [str(v) for v in keys[spec.by[0]]]
    if not values:
        raise ConfigError(f"the public keys of '{spec.by[0]}' are empty")
    return {spec.by[0]: values}


def _prepare(frame: pl.DataFrame, spec: QuerySpec, bounds: tuple[float, float] | None) -> tuple[pl.DataFrame, bool]:
    """The columns the query reads, typed: group keys as text, the value column as numbers (integers when every
    value and both bounds are whole, so OpenDP can use exact integer noise), nulls at the bounds' midpoint."""
    columns = [frame[c].cast(pl.String).fill_null("") for c in spec.by]
    integral = False
    if spec.column is not None and bounds is not None:
        values = frame[spec.column]
        numbers = values.cast(pl.Float64, strict=False)
        bad = values.is_not_null() & numbers.is_null()
        if values.dtype == pl.String:
            bad = bad & (values.str.strip_chars() != "")
        if bad.any():
            example = values.filter(bad).head(1).item()
            raise InputError(f"column '{spec.column}': {int(bad.sum())} value(s) are not numbers, e.g. one shaped "
                             f"'{shape(example)}'")  # fmt: skip
        lo, hi = bounds
        clean = numbers.fill_nan(None)
        integral = bool(lo.is_integer() and hi.is_integer() and (clean.drop_nulls() % 1 == 0).all())
        middle = (lo + hi) / 2
        if integral:
            middle = float(math.floor(middle))
        filled = clean.fill_null(middle).clip(lo, hi)
        column = (filled.cast(pl.Int64) if integral else filled).alias(spec.column)
        columns.append(column)
        if spec.kind == "variance":
            columns.append((column * column).alias("__veil_sq"))
    if not columns:
        return pl.DataFrame({"__veil_row": pl.repeat(1, frame.height, eager=True, dtype=pl.Int32)}), integral
    return pl.DataFrame(columns), integral


def _post_process(spec: QuerySpec, frame: pl.DataFrame, bounds: tuple[float, float] | None = None) -> pl.DataFrame:
    """Means and variances from the private sums and counts, kept inside what the bounds allow (post-processing
    costs no privacy)."""
    if spec.kind == "mean":
        count = pl.col("count").cast(pl.Float64)
        mean = pl.when(count > 0).then(pl.col("sum").cast(pl.Float64) / count).otherwise(None)
        if bounds is not None:
            mean = mean.clip(*bounds)
        frame = frame.with_columns(mean.alias("mean"))
    if spec.kind == "variance":
        n = pl.col("count").cast(pl.Float64)
        s = pl.col("sum").cast(pl.Float64)
        s2 = pl.col("sum_sq").cast(pl.Float64)
        top = ((bounds[1] - bounds[0]) ** 2 / 4) if bounds is not None else None  # the largest possible variance
        variance = ((s2 - s * s / n) / (n - 1)).clip(lower_bound=0, upper_bound=top)
        frame = frame.with_columns(pl.when(n > 1).then(variance).otherwise(None).alias("variance"))
    return frame

"""Private queries: the noise OpenDP adds matches what Veil reports, errors are named, the ledger is charged."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest

from veil.dp import Ledger, PlannedQuery, epsilon_for_error, parse_query
from veil.errors import BudgetExceeded, ConfigError, InputError
from veil.vault import Vault


def test_parse_query() -> None:
    assert parse_query("count").kind == "count"
    spec = parse_query("count  BY state, city")
    assert spec.by == ["state", "city"] and spec.column is None
    assert parse_query("histogram race").by == ["race"]
    spec = parse_query("mean income by state")
    assert (spec.kind, spec.column, spec.by) == ("mean", "income", ["state"])
    assert parse_query("median age").quantile == 0.5
    assert parse_query("quantile 0.9 age").quantile == 0.9 == parse_query("quantile age 0.9").quantile
    for bad, message in [("", "empty"), ("avg age", "unknown statistic"), ("count age", "no column"),
                         ("quantile age 2", "between 0 and 1"), ("sum", "one column"), ("median age by x", "not")]:  # fmt: skip
        with pytest.raises(ConfigError, match=message):
            parse_query(bad)


def test_missing_information_is_named(adult: pl.DataFrame) -> None:
    with pytest.raises(ConfigError, match=r"needs bounds for 'age'.*--bounds age=LOW:HIGH"):
        PlannedQuery(adult, parse_query("sum age"), epsilon=1.0)
    with pytest.raises(ConfigError, match="without public keys needs a delta"):
        PlannedQuery(adult, parse_query("count by race"), epsilon=1.0)
    with pytest.raises(InputError, match=r"are not numbers, e\.g\. one shaped 'Aaaaa'"):
        PlannedQuery(adult, parse_query("sum race"), epsilon=1.0, bounds={"race": (0, 1)})
    with pytest.raises(InputError, match="no column named 'income'"):
        PlannedQuery(adult, parse_query("sum income"), epsilon=1.0, bounds={"income": (0, 1)})
    with pytest.raises(ConfigError, match="epsilon"):
        PlannedQuery(adult, parse_query("count"), epsilon=0.0)
    with pytest.raises(ConfigError, match="LOW < HIGH"):
        PlannedQuery(adult, parse_query("sum age"), epsilon=1.0, bounds={"age": (90, 17)})


def _mean_absolute_noise(mechanism: str, scale: float) -> float:
    """E|noise| of the Laplace distributions OpenDP reports: b for the continuous one; for the integer one with
    P(k) proportional to q^|k|, q = exp(-1/b): 2q / ((1 - q)(1 + q))."""
    if not mechanism.startswith("Integer"):
        return scale
    q = math.exp(-1 / scale)
    return 2 * q / ((1 - q) * (1 + q))


@pytest.mark.parametrize(("text", "bounds"), [("count", None), ("sum age", (17, 90)), ("sum fage", (0.0, 100.5))])
def test_noise_matches_the_reported_scale(adult: pl.DataFrame, text: str, bounds: tuple[float, float] | None) -> None:
    """Over many releases the noise has the mean absolute size of the reported distribution and scale (a steadier
    statistic than the variance for Laplace's heavy tails: 1,000 draws estimate it within ~3 %), and the reported
    95 % error bound holds for about 95 % of them."""
    frame = adult.with_columns((pl.col("age").cast(pl.Float64) + 0.5).alias("fage"))
    column = text.split()[-1] if bounds else None
    planned = PlannedQuery(frame, parse_query(text), epsilon=0.5, bounds={column: bounds} if column else None)
    (error,) = planned.expected_error(alpha=0.05)
    truth = frame.height if column is None else float(frame[column].cast(pl.Float64).clip(*bounds).sum())
    measurement = planned.measurement()
    runs = 1000
    noise = np.array([float(measurement(planned.data.lazy()).collect().item()) - truth for _ in range(runs)])
    expected = _mean_absolute_noise(error.mechanism, error.scale)
    assert abs(noise.mean()) < 5 * expected * math.sqrt(2 / runs)  # unbiased
    assert float(np.abs(noise).mean()) == pytest.approx(expected, rel=0.15)  # ~4.5 standard errors
    coverage = float(np.mean(np.abs(noise) <= error.accuracy))
    if error.mechanism.startswith("Integer"):  # discreteness makes the bound a little conservative
        q = math.exp(-1 / error.scale)
        expected_coverage = 1 - 2 * q ** (math.floor(error.accuracy) + 1) / (1 + q)
    else:
        expected_coverage = 1 - math.exp(-error.accuracy / error.scale)
    assert expected_coverage >= 0.95 - 1e-9
    assert abs(coverage - expected_coverage) <= 4 * math.sqrt(0.05 * 0.95 / runs)


def test_release_charges_the_ledger_and_refuses_overspending(adult: pl.DataFrame, vault: Vault) -> None:
    ledger = Ledger.of(vault)
    ledger.set_budget("adult", 1.0, 1e-6)
    planned = PlannedQuery(adult, parse_query("mean age by sex"), epsilon=0.6, bounds={"age": (17, 90)},
                           keys={"sex": ["Female", "Male", "Other"]})  # fmt: skip
    result = planned.release(ledger, "adult")
    assert result.epsilon == pytest.approx(0.6) and result.remaining_epsilon == pytest.approx(0.4)
    values = {r["sex"]: r for r in result.values.to_dicts()}
    assert set(values) == {"Female", "Male", "Other"}  # exactly the public keys
    assert abs(values["Male"]["mean"] - 39.43) < 1.5 and abs(values["Female"]["mean"] - 36.88) < 1.5
    again = PlannedQuery(adult, parse_query("count"), epsilon=0.5)
    with pytest.raises(BudgetExceeded):
        again.release(ledger, "adult")
    assert ledger.budget("adult").spent_epsilon == pytest.approx(0.6)


def test_private_partition_selection(adult: pl.DataFrame, vault: Vault) -> None:
    ledger = Ledger.of(vault)
    ledger.set_budget("adult", 2.0, 1e-6)
    planned = PlannedQuery(adult, parse_query("count by native-country"), epsilon=1.0, delta=1e-7)
    (error,) = planned.expected_error()
    assert error.threshold is not None and error.threshold > 10
    result = planned.release(ledger, "adult")
    released = set(result.values["native-country"].to_list())
    assert "United-States" in released and released <= set(adult["native-country"].unique().to_list())
    assert "Holand-Netherlands" not in released  # one person: never released
    assert 0 < result.delta <= 1e-7


def test_statistics_are_close_on_adult(adult: pl.DataFrame) -> None:
    age = adult["age"].cast(pl.Float64)
    variance = PlannedQuery(adult, parse_query("variance age"), epsilon=2.0, bounds={"age": (17, 90)})
    assert variance.release(None, "x").values["variance"].item() == pytest.approx(float(age.var()), rel=0.05)
    median = PlannedQuery(adult, parse_query("median age"), epsilon=2.0, bounds={"age": (0, 100)})
    assert abs(median.release(None, "x").values.item() - float(age.median())) <= 2


def test_epsilon_for_a_target_error(adult: pl.DataFrame) -> None:
    planned = PlannedQuery(adult, parse_query("sum age"), epsilon=1.0, bounds={"age": (17, 90)})
    eps = epsilon_for_error(planned, 100.0)
    (error,) = planned.expected_error(epsilon=eps)
    assert 99.0 <= error.accuracy <= 100.0
    quantile = PlannedQuery(adult, parse_query("median age"), epsilon=1.0, bounds={"age": (0, 100)})
    with pytest.raises(ConfigError, match="no error bound for quantiles"):
        epsilon_for_error(quantile, 1.0)


def test_gaussian_noise_under_zcdp(adult: pl.DataFrame, vault: Vault) -> None:
    """zCDP: OpenDP's discrete Gaussian, charged as the (epsilon, delta) OpenDP converts its rho to, rho recorded."""
    ledger = Ledger.of(vault)
    ledger.set_budget("adult", 1.0, 1e-5)
    planned = PlannedQuery(adult, parse_query("count by sex"), epsilon=0.5, delta=1e-6, mechanism="gaussian",
                           keys={"sex": ["Female", "Male"]})  # fmt: skip
    (error,) = planned.expected_error()
    assert error.mechanism == "Integer Gaussian"
    epsilon, delta = planned.cost()
    assert epsilon <= 0.5 + 1e-9 and epsilon > 0.49 and delta == 1e-6
    measurement = planned.measurement()
    truth = {"Female": 9782, "Male": 20380}
    noise = np.array([r["count"] - truth[r["sex"]] for _ in range(300)
                      for r in measurement(planned.data.lazy()).collect().to_dicts()])  # fmt: skip
    assert float(np.abs(noise).mean()) == pytest.approx(error.scale * math.sqrt(2 / math.pi), rel=0.15)
    planned.release(ledger, "adult")
    (spend,) = ledger.budget("adult").spends
    assert spend.rho is not None and spend.rho > 0 and spend.delta == 1e-6
    with pytest.raises(ConfigError, match="needs a delta"):
        PlannedQuery(adult, parse_query("count"), epsilon=0.5, mechanism="gaussian")
    with pytest.raises(ConfigError, match="public keys only"):
        PlannedQuery(adult, parse_query("count by race"), epsilon=0.5, delta=1e-6, mechanism="gaussian")

"""protect(): the output meets the guarantee (checked independently), risk falls, bad input is named."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest

from veil.errors import ConfigError, InputError, ReleaseRefused
from veil.tabular.privacy import (
    EntropyLDiversity,
    KAnonymity,
    TCloseness,
    mondrian,
    protect,
    smallest_class,
    verify,
)


def test_optimal_release_of_adult(adult: pl.DataFrame, adult_hierarchies: dict[str, Any]) -> None:
    release = protect(adult, adult.columns, [KAnonymity(5)], hierarchies=adult_hierarchies, suppression=0.04)
    report = release.report
    assert list(report["levels"].values()) == [1, 0, 1, 1, 3, 2, 2, 0, 1]
    assert report["suppressed_rows"] <= 0.04 * 30162 and release.frame.height == 30162
    assert report["risk_before"]["prosecutor_average"] == pytest.approx(0.6465751607983555)
    assert report["risk_after"]["smallest_class"] >= 5 and report["risk_after"]["prosecutor_highest"] <= 0.2
    assert smallest_class(release.frame, adult.columns) >= 5
    first = release.frame.row(0, named=True)
    assert first["sex"] == "*" and first["age"] == "39" and first["marital-status"] == "spouse not present"
    dropped = protect(adult, adult.columns, [KAnonymity(5)], hierarchies=adult_hierarchies, suppression=0.04,
                      drop_suppressed=True)  # fmt: skip
    assert dropped.frame.height == 30162 - report["suppressed_rows"]


def test_l_diversity_and_t_closeness_hold_on_the_output(adult: pl.DataFrame, adult_hierarchies: dict[str, Any]) -> None:
    qis = [c for c in adult.columns if c != "occupation"]
    models = [KAnonymity(5), EntropyLDiversity(3), TCloseness(0.2, "hierarchical", adult_hierarchies["occupation"])]
    release = protect(adult, qis, models, hierarchies=adult_hierarchies, sensitive="occupation", suppression=0.04)
    verify(release.frame, qis, models, sensitive="occupation", suppression=0.04)


def test_verify_refuses_a_table_that_breaks_the_guarantee(adult: pl.DataFrame) -> None:
    with pytest.raises(ReleaseRefused, match="k-anonymity"):
        verify(adult, adult.columns, [KAnonymity(2)])
    starred = adult.with_columns(pl.lit("*").alias(c) for c in adult.columns)
    with pytest.raises(ReleaseRefused, match="suppressed, more than the limit"):
        verify(starred, adult.columns, [KAnonymity(2)], suppression=0.5)


def test_mondrian_local_recoding(adult: pl.DataFrame, adult_hierarchies: dict[str, Any]) -> None:
    qis = [c for c in adult.columns if c != "salary-class"]
    for k in (2, 10):
        result = mondrian(adult, qis, [KAnonymity(k)], hierarchies=adult_hierarchies)
        assert result.sizes.min() >= k and result.frame.height == adult.height
        assert smallest_class(result.frame, qis) >= k
    release = protect(adult, qis, [KAnonymity(5), EntropyLDiversity(1.5)], sensitive="salary-class",
                      method="mondrian")  # fmt: skip
    assert release.report["classes"] > 1000 and release.report["risk_after"]["smallest_class"] >= 5
    assert 0 < release.report["utility"]["normalised_generalization"] < 1


def test_bad_input() -> None:
    frame = pl.DataFrame({"age": ["30", "31"], "zip": ["1", "2"]})
    with pytest.raises(InputError, match="no column named 'sex'"):
        protect(frame, ["sex"], [KAnonymity(2)])
    with pytest.raises(ConfigError, match="method"):
        protect(frame, ["age"], [KAnonymity(2)], method="greedy")
    with pytest.raises(InputError, match="no rows"):
        protect(frame.head(0), ["age"], [KAnonymity(2)])

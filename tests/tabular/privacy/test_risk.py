"""Risk with a population table: journalist and marketer risk use the population's class sizes."""

from __future__ import annotations

import polars as pl
import pytest

from veil.errors import ConfigError, InputError
from veil.tabular.privacy import assess, smallest_class


def test_sample_and_population_risk() -> None:
    sample = pl.DataFrame({"zip": ["1", "1", "2", "3"], "sex": ["F", "F", "M", "M"]})
    population = pl.DataFrame({"zip": ["1"] * 4 + ["2"] * 5 + ["3"] * 1, "sex": ["F"] * 4 + ["M"] * 6})
    alone = assess(sample, ["zip", "sex"])
    assert alone.classes == 3 and alone.prosecutor_average == 0.75 and alone.prosecutor_highest == 1.0
    assert alone.sample_uniques == 0.5 and alone.records_at_risk == 1.0  # every risk > 0.2
    assert alone.journalist_average == alone.prosecutor_average and alone.population == "sample (upper bound)"
    risk = assess(sample, ["zip", "sex"], population=population)
    # classes: (1,F) f=2 F=4, (2,M) f=1 F=5, (3,M) f=1 F=1
    assert risk.marketer == pytest.approx((2 / 4 + 1 / 5 + 1 / 1) / 4)
    assert risk.journalist_highest == 1.0 and risk.population == "table"
    assert smallest_class(sample, ["zip"]) == 1


def test_bad_risk_input() -> None:
    frame = pl.DataFrame({"a": ["1"]})
    with pytest.raises(InputError, match="no column named 'b'"):
        assess(frame, ["b"])
    with pytest.raises(ConfigError, match="threshold"):
        assess(frame, ["a"], threshold=0)
    with pytest.raises(InputError, match="no rows"):
        assess(frame.head(0), ["a"])

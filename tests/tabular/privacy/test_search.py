"""The lattice search is exact: on random small tables it finds what trying every transformation finds."""

from __future__ import annotations

import itertools

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from veil.errors import ConfigError, NoSolution
from veil.tabular.privacy import (
    DistinctLDiversity,
    Encoded,
    IntervalHierarchy,
    KAnonymity,
    PrefixHierarchy,
    RecursiveCLDiversity,
    TCloseness,
    optimal,
)
from veil.tabular.privacy.metrics import Metrics
from veil.tabular.privacy.search import Lattice


def _table(seed: int, rows: int) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    return pl.DataFrame({
        "age": [str(x) for x in rng.integers(18, 90, rows)],
        "zip": [f"{x:05d}" for x in rng.integers(10000, 10400, rows)],
        "sex": rng.choice(["F", "M"], rows).tolist(),
        "disease": rng.choice(["flu", "cold", "hiv", "cancer", "none"], rows, p=[.3, .3, .05, .15, .2]).tolist(),
    })  # fmt: skip


def _brute(data: Encoded, models: list, limit: float, metric: str) -> float | None:  # type: ignore[type-arg]
    for m in models:
        m.prepare(data)
    metrics = Metrics(data)
    best = None
    allowed = int(np.floor(limit * data.rows + 1e-9))
    for levels in itertools.product(*(range(t + 1) for t in data.tops)):
        groups = data.groups(levels)
        ok = np.ones(len(groups.sizes), dtype=bool)
        for m in models:
            ok &= m.passes(groups)
        if groups.sizes[~ok].sum() <= allowed:
            loss = metrics.evaluate(metric, levels, groups, ok).loss
            best = loss if best is None else min(best, loss)
    return best


MODEL_SETS = [
    lambda: [KAnonymity(3)],
    lambda: [KAnonymity(2), DistinctLDiversity(2)],
    lambda: [RecursiveCLDiversity(3, 2)],
    lambda: [KAnonymity(2), TCloseness(0.3)],
    lambda: [TCloseness(0.25, "ordered")],
]


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    rows=st.integers(20, 150),
    which=st.integers(0, len(MODEL_SETS) - 1),
    limit=st.sampled_from([0.0, 0.05, 0.2]),
    metric=st.sampled_from(["entropy", "discernibility", "loss", "entropy-nm"]),
)
def test_optimal_equals_exhaustive(seed: int, rows: int, which: int, limit: float, metric: str) -> None:
    frame = _table(seed, rows)
    hierarchies = {"age": IntervalHierarchy([10, 20, 40]), "zip": PrefixHierarchy(2)}
    data = Encoded(frame, ["age", "zip", "sex"], hierarchies, sensitive="disease")
    expected = _brute(data, MODEL_SETS[which](), limit, metric)
    if expected is None:
        with pytest.raises(NoSolution):
            optimal(data, MODEL_SETS[which](), suppression=limit, metric=metric)
        return
    result = optimal(data, MODEL_SETS[which](), suppression=limit, metric=metric)
    assert result.evaluation.loss == pytest.approx(expected, rel=1e-9, abs=1e-9)


def test_lattice_arithmetic() -> None:
    lattice = Lattice([1, 2, 1])
    assert lattice.size == 12
    i = lattice.index([0, 1, 0])
    assert set(lattice.successors(i)) == {lattice.index([1, 1, 0]), lattice.index([0, 2, 0]), lattice.index([0, 1, 1])}
    assert lattice.at_or_above(i).sum() == 2 * 2 * 2
    assert lattice.at_or_below(i).sum() == 2
    region = np.zeros(12, dtype=bool)
    region[[lattice.index([0, 0, 0]), i]] = True
    assert list(np.nonzero(lattice.maximal(region))[0]) == [i]


def test_bad_configuration_is_named() -> None:
    frame = _table(1, 30)
    data = Encoded(frame, ["age", "sex"], sensitive=None)
    with pytest.raises(ConfigError, match="sensitive"):
        optimal(data, [DistinctLDiversity(2)])
    with pytest.raises(ConfigError, match="unknown metric"):
        optimal(data, [KAnonymity(2)], metric="utility")
    with pytest.raises(ConfigError, match="suppression"):
        optimal(data, [KAnonymity(2)], suppression=1.5)
    with pytest.raises(ConfigError, match="k must be"):
        KAnonymity(0)

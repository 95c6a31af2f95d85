"""Reproduce ARX's own test expectations on Adult (../shared/data/tabular/arx-adult/reference-results):
optimal levels and information loss for k-anonymity, l-diversity and t-closeness, ARX's loss metric per column,
and its re-identification risk numbers."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from veil.errors import NoSolution
from veil.tabular.privacy import (
    Encoded,
    EntropyLDiversity,
    KAnonymity,
    TCloseness,
    assess,
    optimal,
)
from veil.tabular.privacy.metrics import Metrics

# TestAnonymizationKAnonymity.java: precomputed non-uniform entropy (monotone), all nine columns
K_CASES = [
    (5, 0.04, 255559.85455731067, (1, 0, 1, 1, 3, 2, 2, 0, 1)),
    (100, 0.04, 379417.3460570988, (1, 1, 1, 1, 3, 2, 2, 1, 1)),
    (5, 0.0, 407289.5388925293, (1, 2, 1, 1, 3, 2, 2, 1, 1)),
    (100, 0.0, 453196.8932458743, (0, 4, 1, 1, 3, 2, 2, 1, 1)),
]


@pytest.mark.parametrize(("k", "suppression", "loss", "levels"), K_CASES)
def test_k_anonymity(adult_all: Encoded, k: int, suppression: float, loss: float, levels: tuple[int, ...]) -> None:
    result = optimal(adult_all, [KAnonymity(k)], suppression=suppression, metric="entropy")
    assert result.levels == levels
    assert result.evaluation.loss == pytest.approx(loss, rel=1e-12)


# TestAnonymizationLDiversity.java: entropy l-diversity of occupation, non-monotone precomputed entropy
L_CASES = [
    (5, 0.04, 228878.2039109517, (1, 0, 1, 1, 2, 2, 2, 1)),
    (5, 0.0, 324620.5269918692, (1, 1, 1, 1, 3, 2, 2, 1)),
]


@pytest.mark.parametrize(("l", "suppression", "loss", "levels"), L_CASES)
def test_entropy_l_diversity(
    adult_occupation: Encoded,
    l: float,  # noqa: E741
    suppression: float,
    loss: float,
    levels: tuple[int, ...],
) -> None:
    result = optimal(adult_occupation, [EntropyLDiversity(l)], suppression=suppression, metric="entropy-nm")
    assert result.levels == levels
    assert result.evaluation.loss == pytest.approx(loss, rel=1e-12)


@pytest.mark.parametrize("suppression", [0.0, 0.04])
def test_no_solution_is_a_clear_error(adult_occupation: Encoded, suppression: float) -> None:
    with pytest.raises(NoSolution, match="entropy-l-diversity"):
        optimal(adult_occupation, [EntropyLDiversity(100)], suppression=suppression, metric="entropy-nm")


def _t_models(distance: str, t: float, k: int, hierarchies: dict[str, Any]) -> list[Any]:
    h = hierarchies["occupation"] if distance == "hierarchical" else None
    return [TCloseness(t, distance, h), KAnonymity(k)]


# TestAnonymizationTCloseness.java / TestAnonymizationOrderedDistanceTCloseness.java
T_CASES = [
    ("equal", 0.2, 5, 0.04, "discernibility", 3.11880088e8, (1, 4, 1, 0, 3, 2, 2, 1)),
    ("equal", 0.2, 100, 0.04, "discernibility", 3.11880088e8, (1, 4, 1, 0, 3, 2, 2, 1)),
    ("equal", 0.2, 5, 0.0, "discernibility", 4.56853172e8, (1, 4, 1, 1, 3, 2, 2, 1)),
    ("hierarchical", 0.2, 5, 0.04, "entropy", 377622.78458729305, (1, 4, 0, 0, 3, 2, 2, 1)),
    ("hierarchical", 0.2, 100, 0.04, "entropy", 390765.61326019815, (1, 4, 1, 0, 3, 1, 2, 1)),
    ("hierarchical", 0.2, 5, 0.0, "entropy", 398400.0741806447, (0, 4, 1, 1, 3, 2, 2, 1)),
    ("ordered", 0.2, 5, 0.04, "discernibility", 2712340.0, (0, 0, 1, 1, 2, 2, 2, 0)),
    ("ordered", 0.2, 100, 0.04, "discernibility", 1.9937246e7, (1, 0, 1, 2, 3, 2, 2, 1)),
    ("ordered", 0.1, 5, 0.0, "discernibility", 9.786802e7, (1, 1, 1, 2, 3, 2, 2, 1)),
    ("ordered", 0.2, 100, 0.0, "discernibility", 1.6231213e8, (1, 4, 1, 1, 1, 2, 2, 1)),
    ("ordered", 0.05, 5, 0.04, "discernibility", 2.01413138e8, (1, 4, 1, 0, 3, 2, 2, 0)),
]


@pytest.mark.parametrize(("distance", "t", "k", "suppression", "metric", "loss", "levels"), T_CASES)
def test_t_closeness(
    adult_occupation: Encoded,
    adult_hierarchies: dict[str, Any],
    distance: str,
    t: float,
    k: int,
    suppression: float,
    metric: str,
    loss: float,
    levels: tuple[int, ...],
) -> None:
    result = optimal(adult_occupation, _t_models(distance, t, k, adult_hierarchies), suppression=suppression,
                     metric=metric)  # fmt: skip
    assert result.levels == levels
    assert result.evaluation.loss == pytest.approx(loss, rel=1e-9)


def test_loss_metric_per_column(adult_occupation: Encoded) -> None:
    """TestUtilityMetricsLoss.java: k=5, 100 % suppression, levels [0,3,0,0,1,0,0,0], ranked per-column loss."""
    levels = (0, 3, 0, 0, 1, 0, 0, 0)
    groups = adult_occupation.groups(levels)
    ok = KAnonymity(5).passes(groups)
    per = Metrics(adult_occupation).per_column("loss", levels, groups, ok)
    expected = [0.297248193, 0.29678055, *[0.1297659306] * 6]
    assert sorted(per, reverse=True) == pytest.approx(expected, abs=1e-9)


def test_risk_of_raw_and_2_anonymous_adult(adult: Any, adult_all: Encoded) -> None:
    """TestRiskMetrics.java: average prosecutor risk 0.6465751607983555 and highest 1.0 on the raw data; after
    2-anonymity (0 % suppression, loss metric, RANK) 0.001922949406538028 and 0.5."""
    raw = assess(adult, adult.columns)
    assert raw.prosecutor_average == pytest.approx(0.6465751607983555, rel=1e-15)
    assert raw.prosecutor_highest == 1.0
    assert raw.sample_uniques == pytest.approx(15512 / 30162)
    result = optimal(adult_all, [KAnonymity(2)], suppression=0.0, metric="loss", aggregate="rank")
    groups = adult_all.groups(result.levels)
    assert len(groups.sizes) / adult_all.rows == pytest.approx(0.001922949406538028, rel=1e-12)
    assert 1 / int(np.min(groups.sizes)) == 0.5


@pytest.mark.parametrize(
    ("fraction", "model", "expected"),
    [
        (0.1, "zayatz", 0.3207402393466189),
        (0.1, "pitman", 0.27684993883653597),
        (0.1, "dankar", 0.27684993883653597),  # Pitman below 0.1
        (0.2, "dankar", 0.3577099234829125),  # Zayatz above
        (0.01, "dankar", 0.1446083531167384),
    ],
)
def test_population_uniqueness(adult: Any, fraction: float, model: str, expected: float) -> None:
    """TestRiskMetrics.java testDecisionRule2: population uniqueness of raw Adult by sampling fraction."""
    risk = assess(adult, adult.columns, sampling_fraction=fraction, population_model=model)
    assert risk.population_uniqueness is not None
    assert risk.population_uniqueness["fraction"] == pytest.approx(expected, rel=1e-9)

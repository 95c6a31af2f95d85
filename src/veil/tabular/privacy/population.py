"""Population uniqueness: how many people in the whole population are unique on the quasi-identifiers, estimated
from a sample (the table) drawn with a known sampling fraction, as ARX estimates it.

- Zayatz (1991): the chance that a sample unique is a population unique, from hypergeometric draws of each class.
- Pitman (Hoshino 2001): the Pitman sampling model fitted by maximum likelihood to the table's class sizes
  (the two score equations solved by SciPy from ARX's starting point); uniques = Gamma(theta+1) /
  Gamma(theta+alpha) * N^alpha.
- Dankar et al. (2012) decision rule: Pitman when the sampling fraction is at most 0.1 (Zayatz if it does not
  converge), else Zayatz. ARX's rule also weighs the SNB model above 0.1; Veil has no SNB, so it is ARX's
  "Dankar without SNB".
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from veil.errors import ConfigError

MODELS = ("dankar", "pitman", "zayatz")


@dataclass
class PopulationUniqueness:
    sampling_fraction: float
    population: int
    model: str  # the model the estimate comes from (the one Dankar's rule picked)
    fraction: float  # estimated population uniques / population
    uniques: float
    zayatz: float | None
    pitman: float | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def estimate(class_sizes: Sequence[int], sampling_fraction: float, model: str = "dankar") -> PopulationUniqueness:
    """Population uniqueness from the sizes of the sample's equivalence classes."""
    if model not in MODELS:
        raise ConfigError(f"population model must be one of {', '.join(MODELS)}, not '{model}'")
    if not 0 < sampling_fraction <= 1:
        raise ConfigError("the sampling fraction is the share of the population in the table, in (0, 1]")
    freq = Counter(int(s) for s in class_sizes)
    n = sum(k * v for k, v in freq.items())
    if n == 0:
        raise ConfigError("no rows to estimate from")
    population = int(n / sampling_fraction)
    if freq.get(1, 0) == 0:
        return PopulationUniqueness(sampling_fraction, population, model, 0.0, 0.0, 0.0, 0.0)
    zayatz = _zayatz(freq, n, sampling_fraction, population)
    pitman = _pitman(freq, n, population) if model in ("dankar", "pitman") else None
    if model == "zayatz" or (model == "dankar" and (sampling_fraction > 0.1 or pitman is None)):
        chosen, uniques = "zayatz", zayatz
    elif pitman is None:
        raise ConfigError("the Pitman model did not converge on this table", hint="use --population-model zayatz")
    else:
        chosen, uniques = "pitman", pitman
    return PopulationUniqueness(sampling_fraction, population, chosen, uniques / population, uniques,
                                zayatz / population, None if pitman is None else pitman / population)  # fmt: skip


def _log_choose(a: float, b: float) -> float:
    return math.lgamma(a + 1) - math.lgamma(b + 1) - math.lgamma(a - b + 1)


def _zayatz(freq: Counter[int], n: int, fraction: float, population: int) -> float:
    classes = sum(freq.values())

    def p_one(k: int) -> float:  # P(exactly one of a population class of size k is drawn into the sample)
        if k > population:
            return 0.0
        return math.exp(_log_choose(k, 1) + _log_choose(population - k, n - 1) - _log_choose(population, n))

    denominator = sum(v / classes * p_one(k) for k, v in freq.items())
    conditional = (freq[1] / classes * p_one(1)) / denominator
    return freq[1] * conditional / fraction


def _pitman(freq: Counter[int], n: int, population: int) -> float | None:
    import numpy as np
    from scipy.optimize import root
    from scipy.special import digamma, gammaln

    u = sum(freq.values())
    c1 = freq[1]
    c2 = freq.get(2) or 1
    keys = sorted(k for k in freq if k != 1)  # a fixed order: the same sums, the same answer every run
    sizes = np.array(keys, dtype=np.float64)
    counts = np.array([freq[k] for k in keys], dtype=np.float64)

    def scores(x: Any) -> list[float]:
        t, a = float(x[0]), float(x[1])
        first = (digamma(t / a + u) - digamma(t / a + 1)) / a  # sum_{i<u} 1 / (t + i a)
        return [
            float(first - (digamma(n + t) - digamma(t + 1))),
            float((u - 1) / a - (t / a) * first - np.sum(counts * (digamma(sizes - a) - digamma(1 - a)))),
        ]

    c = c1 * (c1 - 1) / c2
    t0 = (n * u * c - c1 * (n - 1) * (2 * u + c)) / (2 * c1 * u + c1 * c - n * c)
    a0 = (t0 * (c1 - n) + (n - 1) * c1) / (n * u)
    with np.errstate(all="ignore"):
        solution = root(scores, [t0, a0], method="hybr", options={"xtol": 1e-13})
        t, a = (float(v) for v in solution.x)
        # judge the fit by its residual: MINPACK reports "no progress" once it is already at machine precision
        residual = max(abs(v) for v in scores(solution.x)) if math.isfinite(t) and math.isfinite(a) else math.inf
    if not residual < 1e-9 or a <= 0 or a >= 1 or t <= -a:
        return None
    uniques = math.exp(float(gammaln(t + 1) - gammaln(t + a))) * population**a
    return uniques if 0 <= uniques <= population else None

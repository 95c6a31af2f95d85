"""Utility (information loss) metrics of a transformation, as ARX defines them.

- ``entropy``: non-uniform entropy (Gionis & Tassa), ARX's monotone precomputed variant: per column
  sum over rows of log2(rows with the generalized value / rows with the original value). It ignores suppression.
- ``entropy-nm``: the non-monotone variant: suppressed rows additionally cost the entropy of their values among
  the suppressed rows.
- ``discernibility``: ARX's monotone variant: sum over all classes of size^2 (suppression does not change it).
- ``discernibility-nm``: the classic DM*: sum over released classes of size^2, plus rows x (suppressed rows).
- ``loss``: ARX's "Loss" (Iyengar's generalization loss): per column the mean over rows of
  (leaves under the generalized value - 1) / (domain size - 1); a suppressed cell costs 1. Summed over columns.
- ``aecs``: average equivalence class size: rows / classes, suppressed rows counted as one class.
- ``height``: sum of the generalization levels. ``precision``: mean of level / top over columns (ARX's Precision,
  suppressed cells counting 1).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from veil.errors import ConfigError
from veil.tabular.privacy.encoding import Encoded, Groups

METRICS = ("entropy", "entropy-nm", "discernibility", "discernibility-nm", "loss", "aecs", "height", "precision")


@dataclass
class Evaluation:
    """What one transformation costs: suppressed rows, classes (suppressed rows as one), the loss and, for
    metrics summed over columns, each column's part."""

    levels: tuple[int, ...]
    suppressed: int
    classes: int
    loss: float
    per_column: list[float] = field(default_factory=list)


class Metrics:
    """Computes every metric for transformations of one encoded table (cached per column and level)."""

    def __init__(self, data: Encoded) -> None:
        self.data = data
        self._nue: list[list[float]] = []  # column -> level -> non-uniform entropy
        self._gen_loss: list[np.ndarray] = []  # column -> level -> "loss" without suppression (which only adds)
        for col in data.columns:
            a = col.counts.astype(np.float64)
            present = a > 0
            nue, gen = [], []
            for level, mapping in enumerate(col.maps):
                b = np.bincount(mapping, weights=a, minlength=col.cardinality(level))[mapping]
                nue.append(float(np.sum(a[present] * np.log2(b[present] / a[present]))))
                leaves = col.leaves[level][mapping]
                gen.append(float(np.sum(a * (leaves - 1) / (col.domain - 1)) / data.rows) if col.domain > 1 else 0.0)
            self._nue.append(nue)
            self._gen_loss.append(np.asarray(gen))

    def static(self, name: str, levels: Sequence[int]) -> float | None:
        """The metric when it does not depend on grouping (else None)."""
        if name == "entropy":
            return sum(self._nue[j][lv] for j, lv in enumerate(levels))
        if name == "height":
            return float(sum(levels))
        return None

    def column_bounds(self, name: str, levels: np.ndarray) -> np.ndarray | None:
        """Per node (rows of ``levels``) and column, a lower bound of that column's loss known without grouping;
        None for metrics that are not sums over columns."""
        tables: list[np.ndarray]
        if name in ("entropy", "entropy-nm"):
            tables = [np.asarray(t) for t in self._nue]
        elif name == "loss":
            tables = self._gen_loss
        elif name == "precision":
            tables = [np.arange(c.top + 1) / c.top if c.top else np.zeros(1) for c in self.data.columns]
        elif name == "height":
            tables = [np.arange(c.top + 1, dtype=np.float64) for c in self.data.columns]
        else:
            return None
        return np.stack([t[levels[:, j]] for j, t in enumerate(tables)], axis=1)

    def lower_bounds(self, name: str, levels: np.ndarray) -> np.ndarray:
        """Per node (rows of ``levels``): a lower bound of the metric known without grouping (0 when none is)."""
        per = self.column_bounds(name, levels)
        if per is None:
            return np.zeros(len(levels))
        return np.asarray(per.mean(axis=1) if name == "precision" else per.sum(axis=1))

    def per_column(self, name: str, levels: Sequence[int], groups: Groups, ok: np.ndarray) -> list[float]:
        data = self.data
        n = float(data.rows)
        bad_rows = ~ok[groups.inverse]  # distinct rows that are suppressed
        weights = data.weights
        suppressed = float(weights[bad_rows].sum())
        if name == "entropy":
            return [self._nue[j][lv] for j, lv in enumerate(levels)]
        if name == "entropy-nm":
            out = []
            for j, lv in enumerate(levels):
                value = self._nue[j][lv]
                if suppressed:
                    codes = data.generalized(j, lv)[bad_rows]
                    counts = np.bincount(codes, weights=weights[bad_rows])
                    counts = counts[counts > 0]
                    value += float(-np.sum(counts * np.log2(counts / suppressed)))
                out.append(value)
            return out
        if name == "loss":
            out = []
            for j, (col, lv) in enumerate(zip(data.columns, levels, strict=True)):
                domain = col.domain
                leaves = col.leaves[lv][data.generalized(j, lv)].astype(np.float64)
                cell = (leaves - 1) / (domain - 1) if domain > 1 else np.zeros_like(leaves)
                cell = np.where(bad_rows, 1.0, cell)
                out.append(float(np.sum(cell * weights) / n))
            return out
        if name == "precision":
            out = []
            for col, lv in zip(data.columns, levels, strict=True):
                share = lv / col.top if col.top else 0.0
                out.append((share * (n - suppressed) + suppressed) / n)
            return out
        if name == "height":
            return [float(lv) for lv in levels]
        raise ConfigError(f"'{name}' is not a per-column metric")

    def evaluate(self, name: str, levels: Sequence[int], groups: Groups, ok: np.ndarray) -> Evaluation:
        sizes = groups.sizes
        suppressed = int(sizes[~ok].sum())
        released = int(ok.sum())
        classes = released + (1 if suppressed else 0)
        columns: list[float] = []
        if name == "discernibility":
            value = float(np.sum(sizes.astype(np.float64) ** 2))
        elif name == "discernibility-nm":
            value = float(np.sum(sizes[ok].astype(np.float64) ** 2) + float(suppressed) * self.data.rows)
        elif name == "aecs":
            value = self.data.rows / classes if classes else 0.0
        elif name in METRICS:
            columns = self.per_column(name, levels, groups, ok)
            value = float(sum(columns)) if name != "precision" else float(np.mean(columns))
        else:
            raise ConfigError(f"unknown metric '{name}'", hint=f"choose one of {', '.join(METRICS)}")
        return Evaluation(tuple(levels), suppressed, classes, value, columns)


def check_metric(name: str) -> str:
    if name not in METRICS:
        raise ConfigError(f"unknown metric '{name}'", hint=f"choose one of {', '.join(METRICS)}")
    return name

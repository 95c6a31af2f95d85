"""Anonymize a table to a privacy guarantee and report what it cost: the one call the CLI and policies use.

``protect(frame, qis, models, ...)`` finds the transformation (the optimal full-domain generalization, or
Mondrian local recoding), applies it to every row, suppresses what must be suppressed (quasi-identifiers become
``*``, as in ARX, or the rows are dropped), and measures risk and utility before and after. The guarantee is then
verified on the output itself, independently of the search, before anything is returned.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from veil.errors import ConfigError, ReleaseRefused
from veil.tabular.privacy.encoding import Encoded, Groups
from veil.tabular.privacy.hierarchy import TOP, Hierarchy, SuppressionHierarchy
from veil.tabular.privacy.metrics import Metrics
from veil.tabular.privacy.models import PrivacyModel, first_failure, passing
from veil.tabular.privacy.mondrian import mondrian
from veil.tabular.privacy.risk import assess, suppressed
from veil.tabular.privacy.search import optimal

METHODS = ("optimal", "mondrian")


@dataclass
class Release:
    frame: pl.DataFrame
    report: dict[str, Any] = field(default_factory=dict)


def protect(
    frame: pl.DataFrame,
    qis: Sequence[str],
    models: Sequence[PrivacyModel],
    *,
    hierarchies: Mapping[str, Hierarchy] | None = None,
    sensitive: str | None = None,
    suppression: float = 0.0,
    metric: str = "entropy",
    aggregate: str = "sum",
    method: str = "optimal",
    drop_suppressed: bool = False,
    risk_threshold: float = 0.2,
) -> Release:
    """Anonymize ``frame`` so that every privacy model holds on ``qis`` (and ``sensitive``)."""
    if method not in METHODS:
        raise ConfigError(f"method must be one of {', '.join(METHODS)}, not '{method}'")
    before = assess(frame, qis, threshold=risk_threshold)
    report: dict[str, Any] = {
        "rows": frame.height,
        "quasi_identifiers": list(qis),
        "sensitive": sensitive,
        "models": [m.describe() for m in models],
        "method": method,
        "risk_before": before.to_dict(),
    }
    if method == "optimal":
        data = Encoded(frame, qis, hierarchies, sensitive)
        result = optimal(data, models, suppression=suppression, metric=metric, aggregate=aggregate)
        groups = data.groups(result.levels)
        ok = passing(models, groups)
        out = _apply(frame, data, result.levels, groups, ok)
        metrics = Metrics(data)
        utility = {name: metrics.evaluate(name, result.levels, groups, ok).loss for name in _REPORTED}
        report.update(
            levels={q: lv for q, lv in zip(qis, result.levels, strict=True)},
            hierarchy_depth={q: c.top for q, c in zip(qis, data.columns, strict=True)},
            suppression_limit=suppression,
            suppressed_rows=result.evaluation.suppressed,
            metric=metric,
            aggregate=aggregate,
            loss=result.evaluation.loss,
            utility=utility,
            search={"nodes": result.nodes, "checks": result.checks, "seconds": round(result.seconds, 4)},
        )
    else:
        local = mondrian(frame, qis, models, hierarchies=hierarchies, sensitive=sensitive)
        out = local.frame
        report.update(
            classes=len(local.sizes),
            suppressed_rows=0,
            utility={
                "normalised_generalization": local.loss,
                "aecs": frame.height / max(len(local.sizes), 1),
                "discernibility": float(np.sum(local.sizes.astype(np.float64) ** 2)),
            },
            search={"rounds": local.rounds, "seconds": round(local.seconds, 4)},
        )
    verify(out, qis, models, sensitive=sensitive, suppression=suppression)
    released = out.filter(~suppressed(qis))
    if drop_suppressed:
        out = released
    report["risk_after"] = assess(released, qis, threshold=risk_threshold).to_dict() if released.height else None
    report["rows_out"] = out.height
    return Release(out, report)


_REPORTED = ("entropy", "entropy-nm", "loss", "discernibility", "aecs", "precision", "height")


def _apply(frame: pl.DataFrame, data: Encoded, levels: Sequence[int], groups: Groups, ok: np.ndarray) -> pl.DataFrame:
    """The frame with each quasi-identifier at its level and suppressed rows' quasi-identifiers set to ``*``."""
    released = ok[groups.inverse[data.row_tuple]]
    columns = []
    for j, (col, level) in enumerate(zip(data.columns, levels, strict=True)):
        labels = np.asarray(col.labels[level], dtype=object)[data.generalized(j, level)[data.row_tuple]]
        columns.append(pl.Series(col.name, np.where(released, labels, TOP), dtype=pl.String))
    return frame.with_columns(columns)


def verify(
    frame: pl.DataFrame,
    qis: Sequence[str],
    models: Sequence[PrivacyModel],
    *,
    sensitive: str | None = None,
    suppression: float = 1.0,
) -> None:
    """Check a released table itself: its classes (on the released values) must satisfy every model, apart from
    suppressed rows (every quasi-identifier ``*``), which may not exceed the suppression limit. t-closeness is
    measured against the sensitive values of all rows given, suppressed ones included (they are unchanged)."""
    data = Encoded(frame, qis, {q: SuppressionHierarchy() for q in qis}, sensitive)
    groups = data.groups(tuple(0 for _ in qis))
    star = np.ones(len(data.tuples), dtype=bool)
    for j, col in enumerate(data.columns):
        star &= np.asarray(col.labels[0], dtype=object)[data.tuples[:, j]] == TOP
    suppressed_class = np.zeros(len(groups.sizes), dtype=bool)
    suppressed_class[groups.inverse[star]] = True
    suppressed = int(groups.sizes[suppressed_class].sum())
    limit = int(np.floor(suppression * frame.height + 1e-9))
    if suppressed > limit:
        raise ReleaseRefused(f"{suppressed} rows are suppressed, more than the limit of {limit}")
    for model in models:
        model.prepare(data)
    failure = first_failure(models, groups, exempt=suppressed_class)
    if failure is not None:
        model, bad = failure
        raise ReleaseRefused(
            f"the output breaks {model.label()}: {int(bad.sum())} class(es) with "
            f"{int(groups.sizes[bad].sum())} rows fail it"
        )

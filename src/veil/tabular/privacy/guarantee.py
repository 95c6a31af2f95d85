"""Check a guarantee (k, l, t) on a table that is written in batches, before it is committed.

Only the counts of each combination of quasi-identifiers (and sensitive value) are kept, never the rows; at the
end they are grouped into classes and every model is applied. A failure raises :class:`ReleaseRefused`, so the
atomic sink is aborted and nothing is released.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import polars as pl

from veil.errors import ConfigError, ReleaseRefused
from veil.tabular.privacy.encoding import Groups
from veil.tabular.privacy.models import PrivacyModel, build_models, first_failure

COUNT = "__veil_n"


class ReleaseCheck:
    def __init__(self, qis: Sequence[str], models: Sequence[PrivacyModel], sensitive: str | None = None) -> None:
        if not qis:
            raise ConfigError("the release requirement needs quasi-identifiers (none were given or classified)")
        self.qis = list(qis)
        self.models = list(models)
        self.sensitive = sensitive
        self._parts: list[pl.DataFrame] = []
        self._rows = 0

    @classmethod
    def from_requirement(cls, requirement: Any, classified: Sequence[str]) -> ReleaseCheck:
        qis = list(requirement.quasi_identifiers) or list(classified)
        r = requirement
        models = build_models(k=r.k, l=r.l, l_variant=r.l_variant, c=r.c, t=r.t, t_distance=r.t_distance,
                              sensitive=r.sensitive)  # fmt: skip
        return cls(qis, models, requirement.sensitive)

    @property
    def columns(self) -> list[str]:
        return [*self.qis, *([self.sensitive] if self.sensitive else [])]

    def add(self, frame: pl.DataFrame) -> None:
        missing = [c for c in self.columns if c not in frame.columns]
        if missing:
            names = ", ".join(repr(m) for m in missing)
            raise ReleaseRefused(f"the output has no column {names} named by the requirement")
        text = frame.select([pl.col(c).cast(pl.String) for c in self.columns])
        self._parts.append(text.group_by(self.columns).agg(pl.len().alias(COUNT)))
        self._rows += frame.height
        if len(self._parts) > 16:
            self._parts = [self._merged()]

    def _merged(self) -> pl.DataFrame:
        return pl.concat(self._parts).group_by(self.columns).agg(pl.col(COUNT).sum())

    def verify(self) -> dict[str, Any]:
        """Raise ReleaseRefused unless every model holds; return what was found."""
        if self._rows == 0:
            return {"rows": 0}
        counts = self._merged()
        classes = counts.group_by(self.qis).agg(pl.col(COUNT).sum()).with_row_index("__class")
        sizes = classes[COUNT].to_numpy().astype(np.int64)
        histogram = None
        if self.sensitive is not None:
            labels = counts[self.sensitive].fill_null("").unique().sort().to_list()
            index = {v: i for i, v in enumerate(labels)}
            joined = counts.join(classes.select([*self.qis, "__class"]), on=self.qis, nulls_equal=True)
            cls = joined["__class"].to_numpy().astype(np.int64)
            sens = joined[self.sensitive].fill_null("").replace_strict(index, return_dtype=pl.Int64).to_numpy()
            weights = joined[COUNT].to_numpy().astype(np.float64)
            flat = np.bincount(cls * len(labels) + sens, weights=weights, minlength=len(sizes) * len(labels))
            histogram = flat.reshape(len(sizes), len(labels)).astype(np.int64)
            for model in self.models:
                model.prepare_distribution(histogram.sum(axis=0) / histogram.sum(), labels, self.sensitive)
        failure = first_failure(self.models, Groups(sizes, histogram))
        if failure is not None:
            model, bad = failure
            raise ReleaseRefused(
                f"the output breaks {model.label()} on {', '.join(self.qis)}: {int(bad.sum())} class(es) "
                f"holding {int(sizes[bad].sum())} of {self._rows} rows fail it; nothing was written",
                hint="generalize the quasi-identifiers further (veil kanon) or relax the requirement",
            )
        return {"rows": self._rows, "classes": len(sizes), "smallest_class": int(sizes.min()),
                "models": [m.describe() for m in self.models], "quasi_identifiers": self.qis}  # fmt: skip

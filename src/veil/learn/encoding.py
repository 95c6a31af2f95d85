"""Features for Veil's models: numeric columns standardized, categories one-hot over a fixed list.

One encoder travels with a model, so every party (HE client and server, every federated client) encodes the same
way. An unseen category is all zeros; a missing numeric value is the column's mean.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from veil.errors import InputError


@dataclass
class Encoder:
    numeric: dict[str, tuple[float, float]]  # column -> (mean, deviation)
    categorical: dict[str, list[str]]  # column -> categories seen in training

    @property
    def names(self) -> list[str]:
        return [*self.numeric, *(f"{c}={v}" for c, vs in self.categorical.items() for v in vs)]

    @classmethod
    def fit(cls, frame: Any, numeric: list[str], categorical: list[str]) -> Encoder:
        import polars as pl

        stats = {}
        for c in numeric:
            col = frame[c].cast(pl.Float64, strict=False)
            stats[c] = (float(col.mean() or 0.0), float(col.std() or 1.0) or 1.0)
        cats = {c: sorted(str(v) for v in frame[c].drop_nulls().unique().to_list()) for c in categorical}
        return cls(stats, cats)

    def transform(self, frame: Any) -> np.ndarray:
        import polars as pl

        missing = [c for c in [*self.numeric, *self.categorical] if c not in frame.columns]
        if missing:
            raise InputError(f"the table lacks the model's column(s): {', '.join(missing)}")
        parts = []
        for c, (mean, std) in self.numeric.items():
            col = frame[c].cast(pl.Float64, strict=False).fill_null(mean).to_numpy()
            parts.append(((col - mean) / std)[:, None])
        for c, values in self.categorical.items():
            col = np.asarray(frame[c].cast(pl.Utf8).fill_null("").to_list(), dtype=object)
            parts.append(np.stack([(col == v).astype(np.float64) for v in values], axis=1))
        return np.concatenate(parts, axis=1) if parts else np.zeros((frame.height, 0))

    def to_dict(self) -> dict[str, Any]:
        return {"numeric": {k: list(v) for k, v in self.numeric.items()}, "categorical": self.categorical}

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> Encoder:
        try:
            numeric = {str(k): (float(v[0]), float(v[1])) for k, v in doc["numeric"].items()}
            categorical = {str(k): [str(x) for x in v] for k, v in doc["categorical"].items()}
        except (KeyError, TypeError, ValueError, IndexError, AttributeError):
            raise InputError("not a feature encoder (numeric: {column: [mean, deviation]}, categorical: ...)") from None
        if any(std <= 0 for _, std in numeric.values()):
            raise InputError("a numeric column's deviation must be > 0")
        return cls(numeric, categorical)


def load_json(path: Path, what: str) -> dict[str, Any]:
    """A JSON object from a file, or an error naming the file (never its content)."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        raise InputError(f"{path}: not a readable {what} file") from None
    if not isinstance(doc, dict):
        raise InputError(f"{path}: not a {what} file")
    return doc

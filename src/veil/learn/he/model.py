"""A logistic regression trained in the clear, in a form encrypted inputs can be scored with.

The encoder (numeric columns standardized with the training table's mean and deviation, categories one-hot over
the training values; an unseen category is all zeros) is part of the model, so client and server encode the
same way. The sigmoid becomes an odd degree-3 polynomial fitted by least squares to sigmoid(R t) on [-1, 1],
with R 1.5 times the largest |logit| on the training table, and the weights divided by R: the server computes
t = w.x / R + b / R, then 0.5 + c1 t + c3 t^3. Since c1 + c3 > 0, the polynomial's side of 0.5 is the logit's
sign for every |logit| <= R: the decision is the plaintext model's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from veil.errors import InputError
from veil.learn.encoding import Encoder

__all__ = ["Encoder", "LinearModel", "fit_poly", "load_model", "train"]


class Scored:
    """What the encrypted circuit approximates, given a model's ``logits``, ``radius`` and cubic ``poly``."""

    radius: float
    poly: tuple[float, float, float]

    def logits(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        out: np.ndarray = 1.0 / (1.0 + np.exp(-self.logits(x)))
        return out

    def poly_proba(self, x: np.ndarray) -> np.ndarray:
        """The polynomial the server evaluates, in the clear (what the encrypted scores approximate)."""
        t = self.logits(x) / self.radius
        c0, c1, c3 = self.poly
        out: np.ndarray = c0 + c1 * t + c3 * t**3
        return out


@dataclass
class LinearModel(Scored):
    encoder: Encoder
    weights: np.ndarray
    bias: float
    radius: float  # R: logits are scaled into [-1, 1] by it
    poly: tuple[float, float, float]  # (c0, c1, c3) of sigmoid(R t)
    depth = 3  # rescalings the encrypted circuit needs

    def logits(self, x: np.ndarray) -> np.ndarray:
        out: np.ndarray = x @ self.weights + self.bias
        return out

    def to_dict(self) -> dict[str, Any]:
        enc = self.encoder
        return {
            "kind": "veil-he-logistic", "numeric": enc.numeric, "categorical": enc.categorical,
            "weights": self.weights.tolist(), "bias": self.bias, "radius": self.radius, "poly": list(self.poly),
        }  # fmt: skip

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> LinearModel:
        if doc.get("kind") != "veil-he-logistic":
            raise InputError("not a Veil encrypted-inference model (veil he train writes one)")
        enc = Encoder({k: (float(v[0]), float(v[1])) for k, v in doc["numeric"].items()}, doc["categorical"])
        c0, c1, c3 = (float(v) for v in doc["poly"])
        return cls(enc, np.asarray(doc["weights"], dtype=np.float64), float(doc["bias"]), float(doc["radius"]),
                   (c0, c1, c3))  # fmt: skip

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_dict()))

    @classmethod
    def load(cls, path: Path) -> LinearModel:
        try:
            return cls.from_dict(json.loads(path.read_text()))
        except (OSError, ValueError, KeyError, TypeError):
            raise InputError(f"{path}: not a readable model file") from None


def load_model(path: Path) -> Any:
    """A logistic regression or an MLP, by the file's ``kind``."""
    from veil.learn.he.mlp import KIND, MlpModel

    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError):
        raise InputError(f"{path}: not a readable model file") from None
    if isinstance(doc, dict) and doc.get("kind") == KIND:
        return MlpModel.from_dict(doc)
    try:
        return LinearModel.from_dict(doc)
    except (KeyError, TypeError, ValueError, AttributeError):
        raise InputError(f"{path}: not a readable model file") from None


def fit_poly(radius: float) -> tuple[float, float, float]:
    """Least-squares odd cubic 0.5 + c1 t + c3 t^3 for sigmoid(radius * t) on [-1, 1]."""
    t = np.linspace(-1, 1, 2001)
    y = 1 / (1 + np.exp(-radius * t)) - 0.5
    design = np.stack([t, t**3], axis=1)
    (c1, c3), *_ = np.linalg.lstsq(design, y, rcond=None)
    return 0.5, float(c1), float(c3)


def train(frame: Any, label: str, positive: str, numeric: list[str], l2: float = 1e-3) -> LinearModel:
    """Logistic regression (L-BFGS on the L2-penalized log loss), all other columns one-hot."""
    from scipy.optimize import minimize

    if label not in frame.columns:
        raise InputError(f"no label column '{label}'")
    categorical = [c for c in frame.columns if c not in (label, *numeric)]
    encoder = Encoder.fit(frame, numeric, categorical)
    x = encoder.transform(frame)
    y = (np.asarray(frame[label].cast(str).to_list()) == positive).astype(np.float64)
    if y.min() == y.max():
        raise InputError(f"every row has the same label: '{positive}' is {'every' if y.min() else 'no'} row's")

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        z = x @ theta[:-1] + theta[-1]
        p = 1 / (1 + np.exp(-z))
        value = float(np.mean(np.logaddexp(0, z) - y * z) + l2 * theta[:-1] @ theta[:-1])
        grad = np.append(x.T @ (p - y) / len(y) + 2 * l2 * theta[:-1], np.mean(p - y))
        return value, grad

    fitted = minimize(loss, np.zeros(x.shape[1] + 1), jac=True, method="L-BFGS-B")
    w, b = fitted.x[:-1], float(fitted.x[-1])
    radius = 1.5 * float(np.max(np.abs(x @ w + b)))
    return LinearModel(encoder, w, b, radius, fit_poly(radius))

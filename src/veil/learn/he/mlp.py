"""A small MLP for encrypted inference: one hidden layer with the square activation, h = (x W1 + b1)^2, logit
h . w2 + b2, then the same odd cubic sigmoid as the logistic regression.

Square is the activation CKKS evaluates exactly (one multiplication, Gilad-Bachrach et al., CryptoNets 2016). The
circuit needs five rescalings (hidden layer, square, output layer, and two for the cubic), so its keys are N=16384
with moduli 60-40-40-40-40-40-60 (320 bits, under the 438 the HE Standard allows at that degree): ``MLP_PARAMS``.
Trained in the clear by L-BFGS on the L2-penalized log loss.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from veil.errors import InputError
from veil.learn.encoding import Encoder
from veil.learn.he.model import Scored, fit_poly
from veil.learn.he.params import CkksParams

MLP_PARAMS = CkksParams(16384, (60, 40, 40, 40, 40, 40, 60), 40, levels_needed=5)
KIND = "veil-he-mlp"


@dataclass
class MlpModel(Scored):
    encoder: Encoder
    w1: np.ndarray  # (features, hidden)
    b1: np.ndarray  # (hidden,)
    w2: np.ndarray  # (hidden,)
    b2: float
    radius: float
    poly: tuple[float, float, float]
    depth = 5

    @property
    def weights(self) -> np.ndarray:  # the input width, as the scorer checks it
        return self.w1[:, 0]

    def logits(self, x: np.ndarray) -> np.ndarray:
        out: np.ndarray = ((x @ self.w1 + self.b1) ** 2) @ self.w2 + self.b2
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"kind": KIND, **self.encoder.to_dict(), "w1": self.w1.tolist(), "b1": self.b1.tolist(),
                "w2": self.w2.tolist(), "b2": self.b2, "radius": self.radius, "poly": list(self.poly)}  # fmt: skip

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> MlpModel:
        try:
            w1 = np.asarray(doc["w1"], dtype=np.float64)
            b1, w2 = np.asarray(doc["b1"], dtype=np.float64), np.asarray(doc["w2"], dtype=np.float64)
            c0, c1, c3 = (float(v) for v in doc["poly"])
            model = cls(Encoder.from_dict(doc), w1, b1, w2, float(doc["b2"]), float(doc["radius"]), (c0, c1, c3))
        except (KeyError, TypeError, ValueError):
            raise InputError("not a readable MLP model file") from None
        if w1.ndim != 2 or w1.shape[0] != len(model.encoder.names) or not b1.shape == w2.shape == (w1.shape[1],):
            raise InputError("the MLP's weight shapes do not match its encoder")
        return model

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_dict()))


def train_mlp(frame: Any, label: str, positive: str, numeric: list[str], hidden: int = 8, l2: float = 1e-3,
              seed: int = 0) -> MlpModel:  # fmt: skip
    from scipy.optimize import minimize

    if label not in frame.columns:
        raise InputError(f"no label column '{label}'")
    if not 1 <= hidden <= 64:
        raise InputError("an encrypted MLP has 1..64 hidden units (each costs one ciphertext product per feature)")
    categorical = [c for c in frame.columns if c not in (label, *numeric)]
    encoder = Encoder.fit(frame, numeric, categorical)
    x = encoder.transform(frame)
    y = (np.asarray(frame[label].cast(str).to_list()) == positive).astype(np.float64)
    if y.min() == y.max():
        raise InputError("every row has the same label")
    d = x.shape[1]
    sizes = [d * hidden, hidden, hidden, 1]

    def unpack(theta: np.ndarray) -> tuple[np.ndarray, ...]:
        w1, b1, w2, b2 = np.split(theta, np.cumsum(sizes)[:-1])
        return w1.reshape(d, hidden), b1, w2, b2

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w1, b1, w2, b2 = unpack(theta)
        a = x @ w1 + b1
        h = a * a
        z = h @ w2 + b2[0]
        p = 1 / (1 + np.exp(-np.clip(z, -50, 50)))
        g = (p - y) / len(y)
        dw2, db2 = h.T @ g, np.array([g.sum()])
        da = np.outer(g, w2) * 2 * a
        dw1, db1 = x.T @ da, da.sum(axis=0)
        value = float(np.mean(np.logaddexp(0, z) - y * z) + l2 * (w1 * w1).sum() + l2 * (w2 @ w2))
        grad = np.concatenate([(dw1 + 2 * l2 * w1).ravel(), db1, dw2 + 2 * l2 * w2, db2])
        return value, grad

    rng = np.random.default_rng(seed)
    start = np.concatenate([rng.normal(0, 0.1, d * hidden), np.zeros(hidden), rng.normal(0, 0.1, hidden), [0.0]])
    fitted = minimize(loss, start, jac=True, method="L-BFGS-B", options={"maxiter": 500})
    w1, b1, w2, b2 = unpack(fitted.x)
    model = MlpModel(encoder, w1, b1, w2, float(b2[0]), 1.0, (0.5, 0.25, 0.0))
    model.radius = 1.5 * float(np.max(np.abs(model.logits(x))))
    model.poly = fit_poly(model.radius)
    return model

"""Logistic regression in NumPy for federated clients: parameters are [weights (d,), bias (1,)].

``train_plain`` runs minibatch SGD epochs. ``train_dpsgd`` is DP-SGD (Abadi et al. 2016): each step samples every
record with probability ``sample_rate`` (Poisson), clips each record's gradient to ``clip`` in L2, adds Gaussian
noise of scale ``noise_multiplier * clip`` drawn by OpenDP, and divides by the expected batch size. The privacy
cost of those steps is what ``accounting.sample_level`` computes for the same numbers.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

import numpy as np

Params = list[np.ndarray]


def init(features: int) -> Params:
    return [np.zeros(features, dtype=np.float64), np.zeros(1, dtype=np.float64)]


def _sigmoid(z: np.ndarray) -> np.ndarray:
    out: np.ndarray = 0.5 * (1.0 + np.tanh(0.5 * z))
    return out


def evaluate(params: Params, x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Mean log loss and accuracy."""
    z = x @ params[0] + params[1][0]
    loss = float(np.mean(np.logaddexp(0.0, z) - y * z)) if len(y) else 0.0
    accuracy = float(np.mean((z > 0) == (y > 0.5))) if len(y) else 0.0
    return loss, accuracy


def train_plain(params: Params, x: np.ndarray, y: np.ndarray, *, epochs: int, learning_rate: float,
                batch_size: int = 64, l2: float = 1e-4, seed: int | None = None) -> Params:  # fmt: skip
    rng = np.random.default_rng(seed)
    w, b = params[0].copy(), float(params[1][0])
    for _ in range(epochs):
        order = rng.permutation(len(y))
        for start in range(0, len(y), batch_size):
            idx = order[start : start + batch_size]
            g = _sigmoid(x[idx] @ w + b) - y[idx]
            w -= learning_rate * (x[idx].T @ g / len(idx) + 2 * l2 * w)
            b -= learning_rate * float(g.mean())
    return [w, np.array([b])]


def gaussian_noise(scale: float, size: int) -> Callable[[], np.ndarray]:
    """A vector of Gaussian noise per call, sampled by OpenDP (exact, from the OS's randomness)."""
    import opendp.prelude as dp

    dp.enable_features("contrib")
    domain = dp.vector_domain(dp.atom_domain(T=float, nan=False), size=size)
    measure = dp.m.make_gaussian(domain, dp.l2_distance(T=float), scale)
    zeros = [0.0] * size
    return lambda: np.asarray(measure(zeros), dtype=np.float64)


def train_dpsgd(params: Params, x: np.ndarray, y: np.ndarray, *, steps: int, sample_rate: float,
                noise_multiplier: float, clip: float, learning_rate: float) -> Params:  # fmt: skip
    d = x.shape[1]
    noise = gaussian_noise(noise_multiplier * clip, d + 1)
    rng = np.random.default_rng(secrets.randbits(128))  # which records a step takes: not predictable
    w, b = params[0].copy(), float(params[1][0])
    expected = max(sample_rate * len(y), 1.0)
    for _ in range(steps):
        idx = np.flatnonzero(rng.random(len(y)) < sample_rate)
        total = np.zeros(d + 1)
        if len(idx):
            g = (_sigmoid(x[idx] @ w + b) - y[idx])[:, None]
            per_example = np.concatenate([g * x[idx], g], axis=1)
            norms = np.linalg.norm(per_example, axis=1, keepdims=True)
            total = (per_example * np.minimum(1.0, clip / np.maximum(norms, 1e-12))).sum(axis=0)
        step = (total + noise()) / expected
        w -= learning_rate * step[:-1]
        b -= learning_rate * float(step[-1])
    return [w, np.array([b])]

"""Classifiers for the audits: anything with scikit-learn's ``fit(x, y)`` and ``predict_proba(x)``.

Veil's own are PyTorch models trained on Veil's DP-SGD path (:mod:`veil.dp.training`: Opacus, the RDP accountant),
plain or private, so the audit attacks exactly what Veil trains. Another classifier is named as
``package.module:factory``, a callable returning a new, unfitted estimator (scikit-learn's, say): the likelihood-ratio
attack trains shadows of the same kind.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np

from veil.errors import ConfigError


class Classifier(Protocol):
    def fit(self, x: np.ndarray, y: np.ndarray) -> Any: ...

    def predict_proba(self, x: np.ndarray) -> np.ndarray: ...


Factory = Callable[[], Classifier]


class TorchClassifier:
    """A multilayer perceptron (``hidden`` units; 0: logistic regression), plain or DP-SGD to ``epsilon``."""

    def __init__(self, *, hidden: int = 64, epochs: int = 30, batch_size: int = 64, learning_rate: float = 0.05,
                 epsilon: float | None = None, delta: float | None = None, max_grad_norm: float = 1.0,
                 seed: int | None = None) -> None:  # fmt: skip
        if hidden < 0 or epochs < 1 or batch_size < 1:
            raise ConfigError("hidden must be 0 or more, epochs and batch_size at least 1")
        if epsilon is not None and not epsilon > 0:
            raise ConfigError("epsilon must be a positive number")
        self.hidden, self.epochs, self.batch_size, self.learning_rate = hidden, epochs, batch_size, learning_rate
        self.epsilon, self.delta, self.max_grad_norm, self.seed = epsilon, delta, max_grad_norm, seed
        self.module: Any = None
        self.epsilon_spent: float | None = None

    def _build(self, width: int, classes: int) -> Any:
        from veil.dp.training import _torch

        nn = _torch().nn
        if self.hidden == 0:
            return nn.Sequential(nn.Linear(width, classes))
        return nn.Sequential(nn.Linear(width, self.hidden), nn.ReLU(), nn.Linear(self.hidden, classes))

    def fit(self, x: np.ndarray, y: np.ndarray) -> TorchClassifier:
        from veil.dp.training import _torch, train_plain, train_private

        torch = _torch()
        if self.seed is not None:
            torch.manual_seed(self.seed)
        features = torch.tensor(np.asarray(x, dtype=np.float32))
        labels = torch.tensor(np.asarray(y, dtype=np.int64))
        module = self._build(features.shape[1], max(int(labels.max()) + 1, 2))
        if self.epsilon is None:
            self.module = train_plain(module, features, labels, epochs=self.epochs, batch_size=self.batch_size,
                                      learning_rate=self.learning_rate, seed=self.seed)  # fmt: skip
        else:
            delta = self.delta or 1.0 / (10 * len(labels))
            result = train_private(module, features, labels, target_epsilon=self.epsilon, target_delta=delta,
                                   epochs=self.epochs, batch_size=self.batch_size, learning_rate=self.learning_rate,
                                   max_grad_norm=self.max_grad_norm, seed=self.seed)  # fmt: skip
            self.module, self.epsilon_spent = result.model, result.epsilon
        return self

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        from veil.dp.training import _torch

        torch = _torch()
        if self.module is None:
            raise ConfigError("the classifier is not trained yet")
        self.module.eval()
        with torch.no_grad():
            logits = self.module(torch.tensor(np.asarray(x, dtype=np.float32)))
            return np.asarray(torch.softmax(logits.double(), dim=1).numpy())


BUILTIN = ("mlp", "logreg")


def factory(name: str, *, epsilon: float | None = None, epochs: int = 30, hidden: int = 64,
            seed: int | None = None) -> Factory:  # fmt: skip
    """A factory of new estimators: Veil's ``mlp`` / ``logreg`` or ``package.module:callable``."""
    if name in BUILTIN:
        width = hidden if name == "mlp" else 0
        counter = iter(range(1_000_000))

        def make() -> Classifier:
            run = next(counter)
            return TorchClassifier(hidden=width, epochs=epochs, epsilon=epsilon,
                                   seed=None if seed is None else seed + run)  # fmt: skip

        return make
    if epsilon is not None:
        raise ConfigError("--epsilon trains Veil's own models (mlp, logreg); a factory's estimator is its own")
    module_name, sep, attr = name.partition(":")
    if not sep or not module_name or not attr:
        raise ConfigError(f"model '{name}': use mlp, logreg or package.module:factory")
    try:
        made = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"model '{name}' cannot be loaded: {type(exc).__name__}") from None
    if not callable(made):
        raise ConfigError(f"model '{name}' is not callable")
    return _checked(made)


def _checked(made: Callable[[], Any]) -> Factory:
    def make() -> Classifier:
        est = made()
        if not (callable(getattr(est, "fit", None)) and callable(getattr(est, "predict_proba", None))):
            raise ConfigError("the model factory must return an estimator with fit(x, y) and predict_proba(x)")
        return est  # type: ignore[no-any-return]

    return make

"""The membership-inference audit of a classifier: loss threshold and LiRA, online and offline, one report.

The attacker's population is every record given: the members (the target's training rows) and the held-out rows.
Each shadow model trains on a random half of that population, so every record is "in" about half of the shadows
and "out" of the others; the target is then attacked on members versus held-out rows. A model that leaks its
training data gives members a visibly higher confidence than the shadows that never saw them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from veil.errors import InputError
from veil.learn.audit.estimators import Classifier, Factory
from veil.learn.audit.mia import Roc, lira_scores, loss_scores, phi, roc

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Attack:
    name: str
    roc: Roc

    def to_dict(self) -> dict[str, Any]:
        curve = self.roc
        return {"attack": self.name, "auc": round(curve.auc, 4), "tpr_at_0.1pct_fpr": round(curve.tpr_at(1e-3), 4),
                "tpr_at_1pct_fpr": round(curve.tpr_at(1e-2), 4), "advantage": round(curve.advantage, 4)}  # fmt: skip


@dataclass
class MembershipReport:
    model: str
    members: int
    nonmembers: int
    shadows: int
    train_accuracy: float
    test_accuracy: float
    attacks: list[Attack] = field(default_factory=list)
    epsilon: float | None = None
    seconds: float = 0.0

    @property
    def strongest(self) -> Attack:
        return max(self.attacks, key=lambda a: a.roc.auc)

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "members": self.members, "nonmembers": self.nonmembers, "shadows": self.shadows,
                "epsilon": self.epsilon, "train_accuracy": round(self.train_accuracy, 4),
                "test_accuracy": round(self.test_accuracy, 4), "attacks": [a.to_dict() for a in self.attacks],
                "strongest": self.strongest.name, "seconds": round(self.seconds, 2)}  # fmt: skip


def _accuracy(model: Classifier, x: np.ndarray, y: np.ndarray) -> float:
    return float((np.asarray(model.predict_proba(x)).argmax(axis=1) == y).mean())


def _labels(y: np.ndarray) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer) or (y < 0).any():
        raise InputError("labels must be class numbers 0, 1, ...")
    return y.astype(np.int64)


def shadow_membership(records: int, shadows: int, rng: np.random.Generator) -> np.ndarray:
    """(shadows, records) booleans: each record in exactly half of the shadows (rounded down), chosen at random."""
    keys = rng.random((shadows, records))
    ranks = keys.argsort(axis=0).argsort(axis=0)
    return np.asarray(ranks < shadows // 2)


def audit_membership(make: Factory, x_in: np.ndarray, y_in: np.ndarray, x_out: np.ndarray, y_out: np.ndarray, *,
                     shadows: int = 8, target: Classifier | None = None, name: str = "model", seed: int = 0,
                     progress: Progress | None = None) -> MembershipReport:  # fmt: skip
    """Train the target on the members (unless ``target`` is the fitted model) and ``shadows`` shadows; attack."""
    y_in, y_out = _labels(y_in), _labels(y_out)
    if len(x_in) != len(y_in) or len(x_out) != len(y_out) or min(len(y_in), len(y_out)) < 10:
        raise InputError("members and held-out rows need labels for every row and at least 10 rows each")
    if shadows == 1 or shadows < 0:
        raise InputError("shadows: 0 (loss attack only) or at least 2")
    say = progress or (lambda _m: None)
    start = time.perf_counter()
    if target is None:
        say("training the target model on the members")
        target = make()
        target.fit(x_in, y_in)
    x = np.concatenate([x_in, x_out])
    y = np.concatenate([y_in, y_out])
    member = np.r_[np.ones(len(y_in), bool), np.zeros(len(y_out), bool)]
    probs = np.asarray(target.predict_proba(x))
    accuracy = _accuracy(target, x_in, y_in), _accuracy(target, x_out, y_out)
    report = MembershipReport(name, len(y_in), len(y_out), shadows, *accuracy,
                              epsilon=getattr(target, "epsilon_spent", None))  # fmt: skip
    report.attacks.append(Attack("loss", roc(loss_scores(probs, y), member)))
    if shadows:
        target_phi = phi(probs, y)
        inside = shadow_membership(len(y), shadows, np.random.default_rng(seed))
        shadow_phi = np.empty((shadows, len(y)))
        for i in range(shadows):
            say(f"training shadow {i + 1} of {shadows}")
            model = make()
            model.fit(x[inside[i]], y[inside[i]])
            shadow_phi[i] = phi(np.asarray(model.predict_proba(x)), y)
        offline = lira_scores(target_phi, shadow_phi, inside, online=False)
        report.attacks.append(Attack("lira-offline", roc(offline, member)))
        report.attacks.append(Attack("lira-online", roc(lira_scores(target_phi, shadow_phi, inside), member)))
    report.seconds = time.perf_counter() - start
    return report

"""Membership-inference statistics: the scores two attacks give each record, and the ROC they trace.

- Loss threshold (Yeom et al., 2018): a record the model was trained on tends to have a lower loss; the score is
  minus the cross-entropy of its true label.
- Likelihood ratio (LiRA, Carlini et al., 2022): shadow models trained with and without each record give two
  distributions of its logit-scaled confidence ``phi = log(p / (1 - p))`` (``p`` the probability of the true
  label); the target model's ``phi`` is scored by how much likelier it is under the "in" distribution (online) or
  how far it sits above the "out" one (offline, for shadows that never saw the record).

Everything runs in float64 on log-probabilities: a confident model's ``p`` of 1 - 1e-12 must not round to 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from veil.errors import MissingExtraError

try:
    from scipy.stats import norm
except ImportError as exc:  # pragma: no cover - the extra names itself
    raise MissingExtraError("audit", exc.name or "scipy") from None

_TINY = 1e-300


def phi(probs: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Logit-scaled confidence of each record's true label from class probabilities (rows sum to 1)."""
    p = np.clip(np.asarray(probs, dtype=np.float64), _TINY, 1.0)
    idx = np.arange(len(labels))
    right = p[idx, labels]
    wrong = np.clip(p.sum(axis=1) - right, _TINY, None)
    return np.asarray(np.log(right) - np.log(wrong), dtype=np.float64)


def loss_scores(probs: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Minus each record's cross-entropy: higher means "more likely a member"."""
    p = np.clip(np.asarray(probs, dtype=np.float64), _TINY, 1.0)
    return np.asarray(np.log(p[np.arange(len(labels)), labels]), dtype=np.float64)


@dataclass(frozen=True)
class Roc:
    fpr: np.ndarray
    tpr: np.ndarray
    auc: float

    def tpr_at(self, fpr: float) -> float:
        """The best true-positive rate at a false-positive rate no higher than ``fpr``."""
        ok = self.fpr <= fpr + 1e-12
        return float(self.tpr[ok].max()) if ok.any() else 0.0

    @property
    def advantage(self) -> float:
        """Max(TPR - FPR): the membership advantage of the best threshold."""
        return float((self.tpr - self.fpr).max())


def roc(scores: np.ndarray, member: np.ndarray) -> Roc:
    """The ROC of ``scores`` for telling members (``member`` True) from non-members; ties handled as one step."""
    scores = np.asarray(scores, dtype=np.float64)
    member = np.asarray(member, dtype=bool)
    positives, negatives = int(member.sum()), int((~member).sum())
    if positives == 0 or negatives == 0:
        raise ValueError("an attack needs both members and non-members")
    scores = np.nan_to_num(scores, nan=-np.inf)
    order = np.argsort(-scores, kind="mergesort")
    sorted_scores, sorted_member = scores[order], member[order]
    last_of_tie = np.r_[np.diff(sorted_scores) != 0, True]
    tp = np.cumsum(sorted_member)[last_of_tie]
    fp = np.cumsum(~sorted_member)[last_of_tie]
    tpr = np.r_[0.0, tp / positives]
    fpr = np.r_[0.0, fp / negatives]
    auc = float(np.sum((fpr[1:] - fpr[:-1]) * (tpr[1:] + tpr[:-1]) / 2))
    return Roc(fpr, tpr, auc)


def lira_scores(target: np.ndarray, shadow_phi: np.ndarray, shadow_in: np.ndarray, *, online: bool = True,
                global_variance: bool = True) -> np.ndarray:  # fmt: skip
    """LiRA scores of each record (higher: "more likely a member").

    ``target``: phi of each record under the target model, shape (n,). ``shadow_phi``: phi under each shadow,
    shape (shadows, n); ``shadow_in``: whether each shadow trained on each record. ``global_variance``: one
    variance per side over all records (Carlini et al.'s choice for fewer than ~64 shadows).
    """
    shadow_in = np.asarray(shadow_in, dtype=bool)
    out_mu, out_sd = _moments(shadow_phi, ~shadow_in, global_variance)
    if not online:
        return np.asarray(norm.logcdf(target, out_mu, out_sd), dtype=np.float64)
    in_mu, in_sd = _moments(shadow_phi, shadow_in, global_variance)
    return np.asarray(norm.logpdf(target, in_mu, in_sd) - norm.logpdf(target, out_mu, out_sd), dtype=np.float64)


def _moments(values: np.ndarray, mask: np.ndarray, global_variance: bool) -> tuple[np.ndarray, np.ndarray]:
    """Per-record mean and deviation of ``values`` where ``mask`` holds (records with no sample: the overall)."""
    counts = mask.sum(axis=0)
    masked = np.where(mask, values, 0.0)
    overall = float(values[mask].mean()) if mask.any() else 0.0
    mu = np.where(counts > 0, masked.sum(axis=0) / np.maximum(counts, 1), overall)
    dev = np.where(mask, values - mu, 0.0)
    if global_variance or (counts < 2).any():
        spread = float(np.sqrt((dev**2).sum() / max(int(mask.sum()) - 1, 1)))
        sd = np.full(values.shape[1], max(spread, 1e-6))
    else:
        sd = np.maximum(np.sqrt((dev**2).sum(axis=0) / (counts - 1)), 1e-6)
    return mu, sd

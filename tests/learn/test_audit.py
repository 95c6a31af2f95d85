"""Model leak audits: the statistics, the attacks against models that do and do not leak, canaries, the gate."""

from __future__ import annotations

import numpy as np
import pytest

from veil.errors import InputError, ReleaseRefused
from veil.learn.audit.gate import judge, require
from veil.learn.audit.membership import audit_membership, shadow_membership
from veil.learn.audit.mia import lira_scores, loss_scores, phi, roc
from veil.policy.watch import ModelRequirement


def test_roc_of_perfect_random_and_tied_scores() -> None:
    member = np.r_[np.ones(50, bool), np.zeros(50, bool)]
    assert roc(np.r_[np.ones(50), np.zeros(50)], member).auc == 1.0
    assert roc(np.zeros(100), member).auc == pytest.approx(0.5)  # all tied: the diagonal, not a staircase
    rng = np.random.default_rng(0)
    assert abs(roc(rng.random(100_000), rng.random(100_000) < 0.5).auc - 0.5) < 0.01
    perfect = roc(np.r_[np.ones(50), np.zeros(50)], member)
    assert perfect.tpr_at(1e-3) == 1.0 and perfect.advantage == 1.0
    with pytest.raises(ValueError):
        roc(np.ones(3), np.ones(3, bool))


def test_phi_stays_finite_for_confident_models() -> None:
    probs = np.array([[1e-15, 1 - 1e-15], [0.5, 0.5], [1.0, 0.0]])
    out = phi(probs, np.array([1, 0, 1]))
    assert out[0] > 30 and out[1] == pytest.approx(0.0) and np.isfinite(out).all()
    assert np.isfinite(loss_scores(probs, np.array([1, 0, 1]))).all()


def test_lira_separates_records_whose_in_confidence_is_higher() -> None:
    rng = np.random.default_rng(1)
    n, k = 400, 16
    inside = shadow_membership(n, k, rng)
    assert (inside.sum(axis=0) == k // 2).all()
    base = rng.normal(0, 1, n)
    shadow = base + np.where(inside, 2.0, 0.0) + rng.normal(0, 0.3, (k, n))
    member = rng.random(n) < 0.5
    target = base + np.where(member, 2.0, 0.0) + rng.normal(0, 0.3, n)
    assert roc(lira_scores(target, shadow, inside), member).auc > 0.95
    assert roc(lira_scores(target, shadow, inside, online=False, global_variance=False), member).auc > 0.95


class Memorizer:
    """A 1-nearest-neighbour classifier: it remembers every training row exactly (the worst case)."""

    def fit(self, x: np.ndarray, y: np.ndarray) -> Memorizer:
        self.x, self.y = x, y
        return self

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        d = ((x[:, None, :] - self.x[None, :, :]) ** 2).sum(axis=2)
        near = self.y[d.argmin(axis=1)]
        return np.where(near[:, None] == np.arange(2)[None, :], 0.99, 0.01)


class Constant:
    def fit(self, x: np.ndarray, y: np.ndarray) -> None:
        self.p = float(y.mean())

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        return np.tile([1 - self.p, self.p], (len(x), 1))


def _noisy(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 5))
    y = ((x[:, 0] + rng.normal(0, 1.5, n)) > 0).astype(np.int64)  # noisy labels: memorizing them shows
    return x, y


def test_the_audit_catches_a_memorizing_model_and_clears_a_constant_one() -> None:
    x, y = _noisy(400, 2)
    leaky = audit_membership(Memorizer, x[:200], y[:200], x[200:], y[200:], shadows=8)
    assert leaky.strongest.roc.auc > 0.75 and leaky.train_accuracy == 1.0
    assert {a.name for a in leaky.attacks} == {"loss", "lira-offline", "lira-online"}
    flat = audit_membership(Constant, x[:200], y[:200], x[200:], y[200:], shadows=4)
    assert all(abs(a.roc.auc - 0.5) < 0.08 for a in flat.attacks)
    doc = leaky.to_dict()
    assert doc["members"] == 200 and doc["strongest"] in {"loss", "lira-offline", "lira-online"}


def test_the_audit_refuses_bad_input() -> None:
    x, y = _noisy(40, 3)
    with pytest.raises(InputError, match="class numbers"):
        audit_membership(Constant, x[:20], y[:20].astype(float) + 0.5, x[20:], y[20:], shadows=0)
    with pytest.raises(InputError, match="shadows"):
        audit_membership(Constant, x[:20], y[:20], x[20:], y[20:], shadows=1)
    with pytest.raises(InputError, match="at least 10"):
        audit_membership(Constant, x[:5], y[:5], x[20:], y[20:], shadows=0)


def test_the_gate_judges_only_what_was_measured() -> None:
    req = ModelRequirement(mia_auc_max=0.55, canary_exposure_max=10)
    assert judge(req, auc=0.52).passed
    bad = judge(req, auc=0.61, exposures=[3.0, 12.5])
    assert not bad.passed and len(bad.reasons()) == 2
    with pytest.raises(ReleaseRefused, match=r"mia_auc 0\.61 is above 0\.55"):
        require(bad)
    assert judge(None, auc=0.9).passed and not judge(None, auc=0.9).checks


def test_a_repeated_canary_is_exposed_and_an_unplanted_one_is_not() -> None:
    pytest.importorskip("opacus")
    from faker import Faker

    from veil.learn.audit.canary import Canary, exposure, make_canaries, plant
    from veil.learn.audit.charlm import train_charlm

    fake = Faker("en_US")
    fake.seed_instance(3)
    lines = [fake.sentence(nb_words=10) for _ in range(600)]
    rng = np.random.default_rng(4)
    planted = make_canaries(["ssn"], [12], rng)
    control = Canary("ssn", planted[0].prefix, "912-34-5678", 0)  # never in the corpus
    lm = train_charlm(plant(lines, planted, rng), epochs=8, hidden=128, extra_chars="0123456789 -")
    hot, cold = exposure(lm, planted[0], candidates=500), exposure(lm, control, candidates=500)
    assert hot.exposure > 15 > 8 > cold.exposure
    assert hot.sampled_rank == 0 and hot.to_dict()["max_exposure"] == pytest.approx(26.58, abs=0.01)


def test_a_model_trained_elsewhere_is_audited_as_given() -> None:
    sklearn = pytest.importorskip("sklearn.ensemble")
    x, y = _noisy(400, 7)
    fitted = sklearn.RandomForestClassifier(n_estimators=30, random_state=0).fit(x[:200], y[:200])
    report = audit_membership(lambda: sklearn.RandomForestClassifier(n_estimators=30), x[:200], y[:200], x[200:],
                              y[200:], target=fitted, shadows=4)  # fmt: skip
    assert report.train_accuracy > 0.98 and report.strongest.roc.auc > 0.7  # a forest remembers its noisy labels
    with pytest.raises(ReleaseRefused):
        require(judge(ModelRequirement(mia_auc_max=0.55), auc=report.strongest.roc.auc))

"""DP-SGD through Opacus on Adult: the ledger is charged first, the accountant stays within the target."""

from __future__ import annotations

import polars as pl
import pytest

from veil.dp import Ledger
from veil.errors import BudgetExceeded, ConfigError
from veil.vault import Vault

torch = pytest.importorskip("torch")
training = pytest.importorskip("veil.dp.training")


def _model(features: int) -> object:
    return torch.nn.Sequential(torch.nn.Linear(features, 16), torch.nn.ReLU(), torch.nn.Linear(16, 2))


def test_dp_sgd_on_adult(adult: pl.DataFrame, vault: Vault) -> None:
    torch.set_num_threads(2)
    x, y, names = training.encode_table(adult, label="salary-class", positive=">50K", numeric=["age"])
    assert (
        x.shape == (30162, len(names))
        and "sex=Male" in names
        and float(y.float().mean()) == pytest.approx(0.249, abs=0.01)
    )
    train, test = slice(0, 24000), slice(24000, None)
    ledger = Ledger.of(vault)
    ledger.set_budget("adult-train", 4.0, 1e-5)
    result = training.train_private(_model(x.shape[1]), x[train], y[train], target_epsilon=3.0, target_delta=1e-5,
                                    epochs=2, ledger=ledger, dataset="adult-train", seed=7)  # fmt: skip
    assert result.epsilon <= 3.0 and result.epsilon > 2.5 and result.noise_multiplier > 0
    assert training.accuracy(result.model, x[test], y[test]) > 0.78  # always predicting <=50K gives 0.75
    budget = ledger.budget("adult-train")
    assert budget.spent_epsilon == pytest.approx(3.0) and "DP-SGD" in budget.spends[0].mechanism
    with pytest.raises(BudgetExceeded):  # only 1.0 left: refused before any training step
        training.train_private(_model(x.shape[1]), x[train], y[train], target_epsilon=3.0, target_delta=1e-6,
                               ledger=ledger, dataset="adult-train")  # fmt: skip
    with pytest.raises(ConfigError, match="above 1/rows"):
        training.train_private(_model(x.shape[1]), x[:100], y[:100], target_epsilon=1.0, target_delta=0.1)


def test_a_sequence_examples_loss_is_its_own() -> None:
    """Each sequence's loss is the mean over its own labelled positions, and the batch's is the mean of those: one
    example's gradient (what DP-SGD clips) never depends on another example's length."""
    from veil.dp.training import _loss

    gen = torch.Generator().manual_seed(0)
    logits = torch.randn(3, 5, 7, generator=gen)
    labels = torch.randint(0, 7, (3, 5), generator=gen)
    labels[0, 2:] = -100  # a short example
    labels[2, 4:] = -100
    alone = [_loss(torch, logits[i : i + 1], labels[i : i + 1]) for i in range(3)]
    assert torch.isclose(_loss(torch, logits, labels), torch.stack(alone).mean())
    first = torch.nn.functional.cross_entropy(logits[0, :2], labels[0, :2])
    assert torch.isclose(alone[0], first)

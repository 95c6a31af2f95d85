"""DP-SGD: train a PyTorch model to a target (epsilon, delta) with Opacus, charged to the budget ledger.

A thin wrapper: Opacus clips every example's gradient, adds Gaussian noise calibrated to the target, samples
batches by Poisson sampling and tracks the privacy loss with its RDP accountant. Veil reserves the target
(epsilon, delta) in the ledger *before* the first step (refusing to train when it does not fit), and reports the
epsilon the accountant measured afterwards (never above the target).

    from veil.dp.training import encode_table, train_private
    x, y, names = encode_table(frame, label="salary-class", positive=">50K", numeric=["age"])
    result = train_private(model, x, y, target_epsilon=3.0, target_delta=1e-5, ledger=ledger, dataset="adult")
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from veil.dp.ledger import Ledger
from veil.errors import ConfigError, InputError, MissingExtraError
from veil.extras import require_columns


def _torch() -> Any:
    try:
        import opacus  # noqa: F401
        import torch
    except ImportError as exc:
        raise MissingExtraError("train", exc.name or "torch") from None
    return torch


@dataclass
class TrainingResult:
    model: Any
    epsilon: float  # what the accountant measured after the last step
    delta: float
    target_epsilon: float
    noise_multiplier: float
    epochs: int
    steps: int
    seconds: float
    spend_id: int | None = None
    losses: list[float] = field(default_factory=list)


def encode_table(
    frame: Any,
    *,
    label: str,
    positive: str,
    numeric: Sequence[str] = (),
    categorical: Sequence[str] | None = None,
) -> tuple[Any, Any, list[str]]:
    """Features for a model: numeric columns standardized, categories one-hot; label 1 where it equals
    ``positive``. Returns (features float32 tensor, labels int64 tensor, feature names).

    The standardization uses the table's own mean and deviation: for a strictly private pipeline give columns
    already scaled by public constants."""
    torch = _torch()
    import polars as pl

    require_columns(frame.columns, [label, *numeric, *(categorical or [])])
    cats = list(categorical) if categorical is not None else [c for c in frame.columns if c not in (label, *numeric)]
    parts = []
    names: list[str] = []
    for column in numeric:
        values = frame[column].cast(pl.Float64, strict=False)
        if values.null_count() > frame[column].null_count():
            raise InputError(f"column '{column}' is not numeric")
        values = values.fill_null(values.mean())
        std = values.std() or 1.0
        parts.append(((values - values.mean()) / std).to_numpy())
        names.append(column)
    import numpy as np

    for column in cats:
        text = frame[column].cast(pl.String).fill_null("")
        for value in sorted(text.unique().to_list()):
            parts.append((text == value).cast(pl.Float32).to_numpy())
            names.append(f"{column}={value}")
    features = torch.tensor(np.stack(parts, axis=1), dtype=torch.float32)
    labels = torch.tensor((frame[label].cast(pl.String) == positive).cast(pl.Int64).to_numpy(), dtype=torch.int64)
    return features, labels, names


def train_private(
    model: Any,
    features: Any,
    labels: Any,
    *,
    target_epsilon: float,
    target_delta: float,
    epochs: int = 5,
    batch_size: int = 256,
    learning_rate: float = 0.05,
    max_grad_norm: float = 1.0,
    ledger: Ledger | None = None,
    dataset: str | None = None,
    actor: str = "api",
    seed: int | None = None,
    secure_mode: bool = False,
) -> TrainingResult:
    """Train ``model`` (classification, cross-entropy) with DP-SGD to (target_epsilon, target_delta).

    ``secure_mode=True`` makes Opacus draw its noise from a cryptographically secure generator (it needs the
    ``torchcsprng`` package); the default uses PyTorch's generator, as Opacus does, which is fine for evaluation
    but not against an attacker who can predict the generator's state."""
    _torch()  # a missing extra is named before anything else
    from opacus import PrivacyEngine

    if not (math.isfinite(target_epsilon) and target_epsilon > 0):
        raise ConfigError("target_epsilon must be a positive number")
    if not 0 < target_delta < 1:
        raise ConfigError("target_delta must be in (0, 1); 1 / rows or less is customary")
    if epochs < 1 or batch_size < 1 or max_grad_norm <= 0 or learning_rate <= 0:
        raise ConfigError("epochs, batch_size, learning_rate and max_grad_norm must be positive")
    if len(features) != len(labels) or len(features) == 0:
        raise InputError("features and labels need the same, non-zero number of rows")
    if target_delta > 1 / len(features):
        raise ConfigError(f"target_delta {target_delta:g} is above 1/rows ({1 / len(features):.2g}): too weak")
    spend_id = None
    if ledger is not None:
        if not dataset:
            raise ConfigError("charging the ledger needs the dataset's name")
        spend_id = ledger.reserve(dataset, target_epsilon, target_delta, actor=actor,
                                  query=f"DP-SGD training, {epochs} epochs, batch {batch_size}",
                                  mechanism="DP-SGD (Opacus, Gaussian, RDP accountant)")  # fmt: skip
    loader, optimizer = _setup(model, features, labels, batch_size, learning_rate, seed)
    engine = PrivacyEngine(accountant="rdp", secure_mode=secure_mode)
    start = time.perf_counter()
    model, optimizer, loader = engine.make_private_with_epsilon(
        module=model, optimizer=optimizer, data_loader=loader, target_epsilon=target_epsilon,
        target_delta=target_delta, epochs=epochs, max_grad_norm=max_grad_norm,
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Full backward hook is firing", category=UserWarning)
        losses, steps = _train(model, optimizer, loader, epochs)
    spent = float(engine.get_epsilon(target_delta))
    return TrainingResult(model, spent, target_delta, target_epsilon, float(optimizer.noise_multiplier), epochs, steps,
                          time.perf_counter() - start, spend_id, losses)  # fmt: skip


def train_plain(model: Any, features: Any, labels: Any, *, epochs: int = 5, batch_size: int = 256,
                learning_rate: float = 0.05, seed: int | None = None) -> Any:  # fmt: skip
    """The same training without privacy: the baseline DP-SGD is compared with."""
    loader, optimizer = _setup(model, features, labels, batch_size, learning_rate, seed)
    _train(model, optimizer, loader, epochs)
    return model


def _setup(model: Any, features: Any, labels: Any, batch_size: int, learning_rate: float,
           seed: int | None) -> tuple[Any, Any]:  # fmt: skip
    """A shuffled loader (seeded when asked) and SGD with momentum: the same for private and plain training."""
    torch = _torch()
    generator = None
    if seed is not None:
        torch.manual_seed(seed)
        generator = torch.Generator().manual_seed(seed)
    data = torch.utils.data.TensorDataset(features, labels)
    loader = torch.utils.data.DataLoader(data, batch_size=batch_size, shuffle=True, generator=generator)
    return loader, torch.optim.SGD(model.parameters(), lr=learning_rate, momentum=0.9)


def _loss(torch: Any, out: Any, y: Any) -> Any:
    """Cross-entropy, the mean over examples. A sequence model's example (logits (B, L, C), labels (B, L), -100
    where there is nothing to predict) has the mean over its own positions as its loss, so that one example's
    gradient never depends on another's (DP-SGD clips each example's)."""
    if out.dim() == 2:
        return torch.nn.functional.cross_entropy(out, y)
    each = torch.nn.functional.cross_entropy(out.transpose(1, 2), y, reduction="none", ignore_index=-100)
    mask = (y != -100).to(each.dtype)
    return ((each * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)).mean()


def _train(model: Any, optimizer: Any, loader: Any, epochs: int) -> tuple[list[float], int]:
    """Cross-entropy epochs; the mean loss of each epoch and the number of steps."""
    torch = _torch()
    losses: list[float] = []
    steps = 0
    model.train()
    for _ in range(epochs):
        total, batches = 0.0, 0
        for x, y in loader:
            if len(x) == 0:  # Poisson sampling can draw an empty batch
                continue
            optimizer.zero_grad()
            loss = _loss(torch, model(x), y)
            loss.backward()
            optimizer.step()
            total += float(loss.detach())
            batches += 1
            steps += 1
        losses.append(total / max(batches, 1))
    return losses, steps


def accuracy(model: Any, features: Any, labels: Any) -> float:
    torch = _torch()
    model.eval()
    with torch.no_grad():
        return float((model(features).argmax(dim=1) == labels).float().mean())

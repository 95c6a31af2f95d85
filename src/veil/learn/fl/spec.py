"""The model's features and a run's settings, as they travel in Flower's run config (TOML scalars).

A feature spec fixes the encoding for every client: the label and its positive value, numeric columns with the
mean and deviation to standardize by, categories with their one-hot values. It must not be fitted on one client's
data in a real federation (it would disclose that client's categories and means): write it from public knowledge
or a reference table (``veil fl spec``).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from veil.errors import ConfigError, InputError
from veil.learn.encoding import Encoder, load_json
from veil.learn.fl.accounting import MODES, DpPlan


@dataclass(frozen=True)
class FeatureSpec:
    label: str
    positive: str
    encoder: Encoder

    @property
    def columns(self) -> list[str]:
        return [self.label, *self.encoder.numeric, *self.encoder.categorical]

    @property
    def width(self) -> int:
        return len(self.encoder.names)

    def to_json(self) -> str:
        return json.dumps({"label": self.label, "positive": self.positive, **self.encoder.to_dict()})

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> FeatureSpec:
        label, positive = doc.get("label"), doc.get("positive")
        if not isinstance(label, str) or not label or not isinstance(positive, str):
            raise InputError("a feature spec needs 'label' (a column) and 'positive' (the label's positive value)")
        encoder = Encoder.from_dict(doc)
        if label in encoder.numeric or label in encoder.categorical:
            raise InputError(f"the label '{label}' cannot also be a feature")
        if not encoder.names:
            raise InputError("a feature spec needs at least one feature")
        return cls(label, positive, encoder)

    @classmethod
    def from_json(cls, text: str) -> FeatureSpec:
        try:
            doc = json.loads(text)
        except ValueError:
            raise InputError("the run's feature spec is not JSON") from None
        if not isinstance(doc, dict):
            raise InputError("the run's feature spec is not a JSON object")
        return cls.from_dict(doc)

    @classmethod
    def load(cls, path: Path) -> FeatureSpec:
        return cls.from_dict(load_json(path, "feature spec"))

    @classmethod
    def fit(cls, frame: Any, label: str, positive: str, numeric: list[str]) -> FeatureSpec:
        if label not in frame.columns:
            raise InputError(f"no label column '{label}'")
        categorical = [c for c in frame.columns if c not in (label, *numeric)]
        return cls(label, positive, Encoder.fit(frame, numeric, categorical))


@dataclass(frozen=True)
class RunSettings:
    """Everything the ServerApp and the ClientApps read from the run config; checked on both sides."""

    spec: str = ""
    dataset: str = "federated"
    rounds: int = 5
    mode: str = "none"
    noise_multiplier: float = 0.0
    clip: float = 1.0
    delta: float = 1e-5
    sample_rate: float = 0.01
    local_steps: int = 100
    local_epochs: int = 1
    learning_rate: float = 0.5
    batch_size: int = 64
    clients: int = 3
    min_clients: int = 2
    secagg: bool = True
    secagg_threshold: int = 2
    round_timeout: float = 120.0
    report_dir: str = ""
    seed: int = 0

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ConfigError(f"unknown DP mode '{self.mode}'; one of: {', '.join(MODES)}")
        if not 1 <= self.min_clients <= self.clients:
            raise ConfigError("min-clients must be between 1 and the number of clients")
        if self.secagg and not 2 <= self.secagg_threshold < self.clients:
            raise ConfigError("SecAgg+ needs at least 3 clients and a threshold of 2 .. clients - 1")
        for name in ("learning_rate", "round_timeout"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ConfigError(f"{name.replace('_', '-')} must be a positive number")
        if self.local_epochs < 1 or self.batch_size < 1:
            raise ConfigError("local-epochs and batch-size must be positive")
        self.plan  # noqa: B018  (the DP numbers are checked here too)

    @property
    def private(self) -> bool:
        return self.mode != "none"

    @property
    def fewest(self) -> int:
        """The fewest clients a round can aggregate: under SecAgg+ every survivor needs ``threshold`` surviving
        neighbours, so at least threshold + 1; without it, ``min-clients``."""
        return max(self.min_clients, self.secagg_threshold + 1) if self.secagg else self.min_clients

    @property
    def plan(self) -> DpPlan:
        return DpPlan(self.mode, self.rounds, self.noise_multiplier, self.clip, self.delta,  # type: ignore[arg-type]
                      self.sample_rate, self.local_steps)  # fmt: skip

    def feature_spec(self) -> FeatureSpec:
        return FeatureSpec.from_json(self.spec)

    def to_run_config(self) -> dict[str, Any]:
        return {k.replace("_", "-"): v for k, v in asdict(self).items()}

    @classmethod
    def from_run_config(cls, config: dict[str, Any]) -> RunSettings:
        known = {f.name: f.type for f in fields(cls)}
        values: dict[str, Any] = {}
        for key, value in config.items():
            name = str(key).replace("-", "_")
            if name in known:
                values[name] = value
        try:
            return cls(**values)
        except TypeError:
            raise ConfigError("the run config has a value of the wrong type") from None

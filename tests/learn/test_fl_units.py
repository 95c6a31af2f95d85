"""Federated learning without the runtime: accounting, the ledger wrapper, client data, DP-SGD."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
from flwr.common import FitIns, Parameters, ndarrays_to_parameters
from flwr.server.strategy import Strategy

from tests.conftest import SHARED
from veil.dp.ledger import Ledger
from veil.errors import BudgetExceeded, ConfigError, InputError
from veil.learn.fl import linear
from veil.learn.fl.accounting import DpPlan, calibrate
from veil.learn.fl.client_app import VeilClient
from veil.learn.fl.data import load_client
from veil.learn.fl.report import RunReport, plot_svg
from veil.learn.fl.run import partition
from veil.learn.fl.spec import FeatureSpec, RunSettings
from veil.learn.fl.strategy import LedgerStrategy
from veil.vault.vault import Vault

ADULT = SHARED / "tabular" / "arx-adult" / "adult.csv"
POLICY = Path(__file__).resolve().parents[2] / "examples" / "fl" / "policy.yaml"


@pytest.fixture(autouse=True)
def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VEIL_HOME", str(tmp_path / "home"))  # client vault keys and caches stay in the test


@pytest.fixture(scope="module")
def adult() -> pl.DataFrame:
    return pl.read_csv(ADULT, separator=";", infer_schema_length=0)


@pytest.fixture(scope="module")
def spec(adult: pl.DataFrame) -> FeatureSpec:
    return FeatureSpec.fit(adult.drop("race", "native-country"), "salary-class", ">50K", ["age"])


def test_round_costs_sum_to_the_accountants_epsilon() -> None:
    for plan in (DpPlan("client", 6, noise_multiplier=1.3), DpPlan("sample", 4, noise_multiplier=0.8)):
        costs = [plan.round_cost(r) for r in range(1, plan.rounds + 1)]
        assert sum(c[0] for c in costs) == pytest.approx(plan.epsilon(), rel=1e-9)
        assert [c[1] for c in costs] == [plan.delta] + [0.0] * (plan.rounds - 1)  # delta once
        assert all(c[0] > 0 for c in costs)


def test_calibrate_reaches_the_target_from_below() -> None:
    plan = calibrate("client", 3.0, rounds=5, delta=1e-5)
    assert 2.99 < plan.epsilon() <= 3.0
    assert calibrate("client", 8.0, rounds=5, delta=1e-5).noise_multiplier < plan.noise_multiplier


@pytest.mark.parametrize("bad", [
    {"mode": "client", "rounds": 3, "noise_multiplier": 0.0},
    {"mode": "client", "rounds": 0, "noise_multiplier": 1.0},
    {"mode": "sample", "rounds": 3, "noise_multiplier": 1.0, "sample_rate": 1.5},
    {"mode": "laplace", "rounds": 3},
    {"mode": "client", "rounds": 3, "noise_multiplier": 1.0, "delta": 0.0},
])  # fmt: skip
def test_bad_plans_are_refused(bad: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        DpPlan(**bad)


def test_settings_check_secagg_and_clients() -> None:
    with pytest.raises(ConfigError, match="SecAgg"):
        RunSettings(clients=2, min_clients=2, secagg=True)
    assert RunSettings(clients=5, min_clients=2, secagg_threshold=3).fewest == 4  # survivors need 3 neighbours
    s = RunSettings(clients=3, mode="sample", noise_multiplier=1.0)
    assert RunSettings.from_run_config(s.to_run_config()) == s


class _Inner(Strategy):
    """The wrapped strategy: asks two (named) clients to train and aggregates nothing of its own."""

    def initialize_parameters(self, client_manager: Any) -> Parameters | None:
        return ndarrays_to_parameters(linear.init(3))

    def configure_fit(self, server_round: int, parameters: Parameters, client_manager: Any) -> Any:
        return [("a", FitIns(parameters, {})), ("b", FitIns(parameters, {}))]

    def aggregate_fit(self, server_round: int, results: Any, failures: Any) -> Any:
        return ndarrays_to_parameters(linear.init(3)), {}

    def configure_evaluate(self, *a: Any) -> Any:
        return []

    def aggregate_evaluate(self, *a: Any) -> Any:
        return None, {}

    def evaluate(self, *a: Any) -> Any:
        return None


def _ledgered(tmp_path: Path, budget: float, plan: DpPlan) -> tuple[LedgerStrategy, Ledger]:
    vault = Vault(f"sqlite:///{tmp_path}/v.db")
    ledger = Ledger.of(vault)
    ledger.set_budget("fl", budget, 1e-4)
    report = RunReport("run-1", "fl", plan.mode, plan.mechanism(), plan.delta, plan.rounds, plan.epsilon(),
                       path=tmp_path / "out" / "report.json")  # fmt: skip
    return LedgerStrategy(_Inner(), plan, report, ledger=ledger, audit=vault.audit), ledger


def test_each_round_is_reserved_once_before_it_runs(tmp_path: Path) -> None:
    plan = DpPlan("client", 3, noise_multiplier=1.5)
    strategy, ledger = _ledgered(tmp_path, 100.0, plan)
    params = strategy.initialize_parameters(None)  # type: ignore[arg-type]
    assert params is not None
    for r in (1, 2, 2, 3):  # round 2 configured twice (a retried round): charged once
        fits = strategy.configure_fit(r, params, None)  # type: ignore[arg-type]
        assert len(fits) == 2 and fits[0][1].config["server_round"] == r
    spends = ledger.budget("fl").spends
    assert [s.query for s in spends] == [f"federated run run-1 round {r}" for r in (1, 2, 3)]
    assert sum(s.epsilon for s in spends) == pytest.approx(plan.epsilon())
    assert (tmp_path / "out" / "report.json").exists()


def test_a_round_that_does_not_fit_asks_no_client(tmp_path: Path) -> None:
    plan = DpPlan("client", 4, noise_multiplier=1.0)
    strategy, ledger = _ledgered(tmp_path, plan.epsilon(2) + 1e-6, plan)  # room for two rounds only
    params = strategy.initialize_parameters(None)  # type: ignore[arg-type]
    assert params is not None
    asked = [len(strategy.configure_fit(r, params, None)) for r in (1, 2, 3, 4)]  # type: ignore[arg-type]
    assert asked == [2, 2, 0, 0]
    assert len(ledger.budget("fl").spends) == 2
    assert [r.status for r in strategy.report.rounds][2:] == ["refused", "refused"]


def test_the_client_refuses_noise_below_its_own_limit(adult: pl.DataFrame, spec: FeatureSpec,
                                                      tmp_path: Path) -> None:  # fmt: skip
    from flwr.app import RecordDict

    data = load_client_from(adult.head(500), spec, tmp_path)
    settings = RunSettings(spec=spec.to_json(), mode="client", noise_multiplier=0.3, rounds=5)
    with pytest.raises(ConfigError, match="max-epsilon"):
        VeilClient(data, settings, {"max-epsilon": 3.0}, RecordDict()).fit(linear.init(spec.width), {})
    # a server that says "round 1" every time: the client counts its own fits
    settings = RunSettings(spec=spec.to_json(), mode="client", noise_multiplier=2.0, rounds=8)
    limit = settings.plan.epsilon(3) + 1e-9
    state = RecordDict()
    client = VeilClient(data, settings, {"max-epsilon": limit}, state)
    for _ in range(3):
        client.fit(linear.init(spec.width), {"server_round": 1})
    with pytest.raises(ConfigError, match="fit number 4 of this run"):
        VeilClient(data, settings, {"max-epsilon": limit}, state).fit(linear.init(spec.width), {"server_round": 1})


def load_client_from(frame: pl.DataFrame, spec: FeatureSpec, tmp_path: Path, policy: Path | None = None) -> Any:
    path = tmp_path / "part.csv"
    frame.write_csv(path)
    return load_client(str(path), str(policy) if policy else None, "income-model" if policy else None, spec,
                       vault=f"sqlite:///{tmp_path}/client.db")  # fmt: skip


def test_the_policy_runs_before_training_and_names_a_missing_column(adult: pl.DataFrame, spec: FeatureSpec,
                                                                   tmp_path: Path) -> None:  # fmt: skip
    data = load_client_from(adult.head(400), spec, tmp_path, POLICY)
    assert {"race", "native-country"} <= set(data.dropped)
    assert data.x_train.shape[1] == spec.width and len(data.y_train) + len(data.y_test) == 400
    cached = list((tmp_path / "home" / "fl-cache").glob("*.npz"))
    assert cached and (os.stat(cached[0]).st_mode & 0o777) == 0o600
    # a spec that needs a column the purpose drops: the error names the column and why, never a value
    wide = FeatureSpec.fit(adult.head(400), "salary-class", ">50K", ["age"])
    with pytest.raises(InputError, match=r"race.*policy removed") as info:
        load_client_from(adult.head(400), wide, tmp_path, POLICY)
    assert "White" not in str(info.value)
    with pytest.raises(InputError, match="occupation"):
        load_client_from(adult.head(400).drop("occupation"), spec, tmp_path)


def test_partition_is_non_iid_and_complete(adult: pl.DataFrame) -> None:
    parts = partition(adult, "workclass", 3)
    assert sum(p.height for p in parts) == adult.height
    values = [set(p["workclass"].to_list()) for p in parts]
    assert not (values[0] & values[1]) and not (values[1] & values[2])
    with pytest.raises(InputError, match="too few"):
        partition(adult, "sex", 3)


def test_dpsgd_learns_and_plain_training_is_seeded(adult: pl.DataFrame, spec: FeatureSpec) -> None:
    x = spec.encoder.transform(adult)
    y = (np.asarray(adult["salary-class"].to_list()) == ">50K").astype(float)
    private = linear.train_dpsgd(linear.init(spec.width), x[:20000], y[:20000], steps=200, sample_rate=0.01,
                                 noise_multiplier=1.0, clip=1.0, learning_rate=0.5)  # fmt: skip
    assert linear.evaluate(private, x[20000:], y[20000:])[1] > 0.78  # majority class is 0.75
    a = linear.train_plain(linear.init(spec.width), x[:2000], y[:2000], epochs=1, learning_rate=0.5, seed=3)
    b = linear.train_plain(linear.init(spec.width), x[:2000], y[:2000], epochs=1, learning_rate=0.5, seed=3)
    assert np.array_equal(a[0], b[0])


def test_plot_escapes_and_draws() -> None:
    svg = plot_svg({"dataset": "<x>", "mode": "sample", "epsilon_spent": 1.0,
                    "rounds": [{"round": 1, "accuracy": 0.8}, {"round": 2, "accuracy": 0.82}]})  # fmt: skip
    assert "&lt;x&gt;" in svg and "<polyline" in svg


def test_no_budget_is_a_clear_refusal(tmp_path: Path) -> None:
    from veil.learn.fl.run import check_budget

    with pytest.raises(BudgetExceeded, match="no privacy budget"):
        check_budget(f"sqlite:///{tmp_path}/v.db", RunSettings(mode="client", noise_multiplier=1.0, dataset="x"))

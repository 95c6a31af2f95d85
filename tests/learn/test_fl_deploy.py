"""A real federation on Flower's Deployment Runtime (SuperLink + 5 SuperNodes on loopback): SecAgg+, DP-SGD on every
client, the ledger charged per round, a client whose data misses a column and a SuperNode killed mid-round."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from tests.learn.test_fl_units import ADULT, POLICY
from veil.dp.ledger import Ledger
from veil.learn.fl.accounting import calibrate
from veil.learn.fl.run import partition, run_local, wait_for_round
from veil.learn.fl.spec import FeatureSpec, RunSettings
from veil.vault.vault import Vault

pytestmark = pytest.mark.service


def test_rounds_go_on_without_a_bad_client_and_a_killed_node(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VEIL_HOME", str(tmp_path / "caller"))
    adult = pl.read_csv(ADULT, separator=";", infer_schema_length=0)
    spec = FeatureSpec.fit(adult.drop("race", "native-country"), "salary-class", ">50K", ["age"])
    parts = []
    for i, part in enumerate(partition(adult, "workclass", 5)):
        if i == 4:
            part = part.drop("occupation")  # this client cannot train: its error must not stop the others
        parts.append(tmp_path / f"part-{i}.csv")
        part.write_csv(parts[-1])
    vault_url = f"sqlite:///{tmp_path}/server.db"
    Ledger.of(Vault(vault_url)).set_budget("adult-fl", 10.0, 1e-4)
    plan = calibrate("sample", 4.0, rounds=3, delta=1e-5, sample_rate=0.01, local_steps=50)
    settings = RunSettings(spec=spec.to_json(), dataset="adult-fl", rounds=3, mode="sample",
                           noise_multiplier=plan.noise_multiplier, sample_rate=0.01, local_steps=50, clients=5,
                           min_clients=3, secagg_threshold=2, round_timeout=60)  # fmt: skip

    def kill_in_round_two(deployment: Any, report: Path) -> None:
        wait_for_round(report, 2, status="running", timeout=400)
        deployment.kill_node(3)

    report = run_local([str(p) for p in parts], settings, home=tmp_path / "fl", vault_url=vault_url,
                       policy=str(POLICY), purpose="income-model", check=False, during=kill_in_round_two,
                       timeout=900, node_extra={"max-epsilon": 4.5})  # fmt: skip  (each client counts its fits)
    rounds = {r["round"]: r for r in report["rounds"]}
    assert report["status"] == "done", report
    assert (rounds[1]["clients"], rounds[1]["dropped"]) == (4, 1)  # the client without 'occupation'
    assert (rounds[2]["clients"], rounds[2]["dropped"]) == (3, 2)  # ... and the killed SuperNode
    assert rounds[3]["status"] == "done" and rounds[3]["clients"] == 3
    assert rounds[3]["accuracy"] > 0.76
    spends = Ledger.of(Vault(vault_url)).budget("adult-fl").spends
    assert len(spends) == 3  # one per round, nothing twice
    assert sum(s.epsilon for s in spends) == pytest.approx(plan.epsilon()) == pytest.approx(report["epsilon_spent"])
    records = list(Vault(vault_url).audit.records())
    rounds_audited = [json.loads(r["details"]) for r in records if r["action"] == "fl-round"]
    assert [(d["round"], d["clients"]) for d in rounds_audited] == [(1, 4), (2, 3), (3, 3)]
    assert sum(r["action"] == "dp-release" for r in records) == 3
    bad_log = (tmp_path / "fl" / "supernode-4.log").read_text()
    assert "lacks the model's column(s) occupation" in bad_log
    assert "Exec-managerial" not in bad_log  # the error names columns, never values
    assert len(report["model"]["weights"]) == spec.width


def _three(tmp_path: Path) -> tuple[list[str], FeatureSpec]:
    adult = pl.read_csv(ADULT, separator=";", infer_schema_length=0)
    spec = FeatureSpec.fit(adult.drop("race", "native-country"), "salary-class", ">50K", ["age"])
    parts = []
    for i, part in enumerate(partition(adult, "workclass", 3)):
        parts.append(str(tmp_path / f"part-{i}.csv"))
        part.write_csv(parts[-1])
    return parts, spec


def test_client_level_dp_through_flowers_wrappers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VEIL_HOME", str(tmp_path / "caller"))
    parts, spec = _three(tmp_path)
    vault_url = f"sqlite:///{tmp_path}/server.db"
    Ledger.of(Vault(vault_url)).set_budget("adult-fl", 30.0, 1e-4)
    plan = calibrate("client", 20.0, rounds=2, delta=1e-5)
    settings = RunSettings(spec=spec.to_json(), dataset="adult-fl", rounds=2, mode="client", clip=0.5,
                           noise_multiplier=plan.noise_multiplier, clients=3, min_clients=3)  # fmt: skip
    report = run_local(parts, settings, home=tmp_path / "fl", vault_url=vault_url, policy=str(POLICY),
                       purpose="income-model", timeout=600)  # fmt: skip
    assert report["status"] == "done" and [r["clients"] for r in report["rounds"]] == [3, 3]
    assert "client-side fixed clipping" in report["mechanism"]
    assert sum(s.epsilon for s in Ledger.of(Vault(vault_url)).budget("adult-fl").spends) == pytest.approx(
        plan.epsilon())
    assert "fixedclipping_mod: parameters are clipped" in (tmp_path / "fl" / "supernode-0.log").read_text()
    assert not list((tmp_path / "fl").glob("supernode-*/fl-cache"))  # each client's prepared arrays are gone


def test_clients_refuse_to_send_an_update_without_secure_aggregation(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.setenv("VEIL_HOME", str(tmp_path / "caller"))
    parts, spec = _three(tmp_path)
    settings = RunSettings(spec=spec.to_json(), rounds=1, clients=3, min_clients=1, secagg=False, round_timeout=30)
    report = run_local(parts, settings, home=tmp_path / "fl", vault_url=f"sqlite:///{tmp_path}/server.db",
                       timeout=600)  # fmt: skip
    assert report["rounds"][0]["status"] == "no-update" and report["rounds"][0]["clients"] == 0
    assert "does not allow that (allow-plain)" in (tmp_path / "fl" / "supernode-0.log").read_text()

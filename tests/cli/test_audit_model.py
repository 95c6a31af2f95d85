"""veil audit-model membership / canaries from the command line, with the policy's release gate."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from tests.cli.test_anonymize import env, veil  # noqa: F401 - fixtures


def _tables(tmp_path: Path, n: int = 240) -> tuple[Path, Path]:
    rng = np.random.default_rng(5)
    x = rng.normal(size=(2 * n, 3))
    y = np.where(x[:, 0] + rng.normal(0, 1.5, 2 * n) > 0, "yes", "no")
    df = pl.DataFrame({"a": x[:, 0], "b": x[:, 1], "c": x[:, 2], "colour": rng.choice(["r", "g"], 2 * n), "y": y})
    df[:n].write_csv(tmp_path / "train.csv")
    df[n:].write_csv(tmp_path / "holdout.csv")
    return tmp_path / "train.csv", tmp_path / "holdout.csv"


def _policy(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text("version: 1\nmodels:\n  require:\n" + body)
    return path


def test_a_memorizing_estimator_fails_the_gate(env: dict[str, str], tmp_path: Path) -> None:  # noqa: F811
    pytest.importorskip("sklearn")
    train, holdout = _tables(tmp_path)
    policy = _policy(tmp_path, "    mia_auc_max: 0.55\n")
    res = veil(env, "audit-model", "membership", "--train", str(train), "--holdout", str(holdout), "--label", "y",
               "--positive", "yes", "--numeric", "a,b,c", "--model", "sklearn.tree:DecisionTreeClassifier",
               "--shadows", "4", "--policy", str(policy), "--out", str(tmp_path / "r.json"),
               "--roc", str(tmp_path / "roc.svg"))  # fmt: skip
    assert res.returncode == 1, res.stderr
    assert "release gate: FAILED: mia_auc" in res.stderr
    doc = json.loads((tmp_path / "r.json").read_text())
    assert doc["train_accuracy"] == 1.0 and doc["verdict"]["passed"] is False
    assert max(a["auc"] for a in doc["attacks"]) > 0.7
    assert (tmp_path / "roc.svg").read_text().startswith("<svg")


def test_veils_mlp_passes_a_loose_gate(env: dict[str, str], tmp_path: Path) -> None:  # noqa: F811
    pytest.importorskip("opacus")
    train, holdout = _tables(tmp_path)
    policy = _policy(tmp_path, "    mia_auc_max: 0.9\n")
    res = veil(env, "audit-model", "membership", "--train", str(train), "--holdout", str(holdout), "--label", "y",
               "--positive", "yes", "--numeric", "a,b,c", "--model", "logreg", "--epsilon", "2", "--epochs", "3",
               "--shadows", "2", "--policy", str(policy))  # fmt: skip
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["verdict"]["passed"] and 0 < doc["epsilon"] <= 2.0
    assert "strongest attack" in res.stderr


def test_bad_input_is_named_not_a_traceback(env: dict[str, str], tmp_path: Path) -> None:  # noqa: F811
    train, holdout = _tables(tmp_path, 40)
    base = ["audit-model", "membership", "--train", str(train), "--holdout", str(holdout), "--positive", "yes"]
    for extra, message in [
        (["--label", "nope"], "no label column 'nope'"),
        (["--label", "y", "--model", "os:nothing_here"], "cannot be loaded"),
        (["--label", "y", "--model", "no-colon"], "package.module:factory"),
        (["--label", "y", "--model", "sklearn.tree:DecisionTreeClassifier", "--epsilon", "1"], "own models"),
        (["--label", "y", "--positive", "maybe"], "one class only"),
        (["--label", "y", "--policy", str(_policy(tmp_path, "    mia_auc_max: 0.2\n"))], "mia_auc_max"),
    ]:
        res = veil(env, *base, *extra)
        assert res.returncode == 2 and message in res.stderr, (extra, res.stderr)
        assert "Traceback" not in res.stderr


def test_canaries_report_exposure_and_gate_it(env: dict[str, str], tmp_path: Path) -> None:  # noqa: F811
    pytest.importorskip("opacus")
    from faker import Faker

    fake = Faker("en_US")
    fake.seed_instance(1)
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(fake.sentence(nb_words=10) for _ in range(500)) + "\n")
    policy = _policy(tmp_path, "    canary_exposure_max: 12\n")
    res = veil(env, "audit-model", "canaries", str(corpus), "--kinds", "ssn", "--repeats", "0,16", "--epochs", "8",
               "--candidates", "300", "--policy", str(policy), "--out", str(tmp_path / "c.json"))  # fmt: skip
    assert res.returncode == 1, res.stderr
    doc = json.loads((tmp_path / "c.json").read_text())
    hot = next(c for c in doc["canaries"] if c["repeats"] == 16)
    cold = next(c for c in doc["canaries"] if c["repeats"] == 0)
    assert hot["exposure"] > 12 > cold["exposure"]
    small = tmp_path / "small.txt"
    small.write_text("\n".join(corpus.read_text().splitlines()[:120]) + "\n")
    res = veil(env, "audit-model", "canaries", str(small), "--kinds", "ssn", "--repeats", "4", "--epochs", "1",
               "--epsilon", "4", "--candidates", "300")  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert 0 < json.loads(res.stdout)["epsilon"] <= 4
    res = veil(env, "audit-model", "canaries", str(corpus), "--kinds", "iban")
    assert res.returncode == 2 and "unknown canary kind" in res.stderr

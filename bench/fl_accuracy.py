"""Federated learning on Adult with 5 clients on Flower's Deployment Runtime (SuperLink + 5 SuperNodes on
loopback, SecAgg+ on every round): test accuracy against centralized non-private training, at epsilon 1, 3, 8.

ARX's Adult (../shared/data) is split 80/20 (seeded); the 80 % is partitioned non-IID by workclass into 5 clients
(one holds 74 % of the rows); every client applies examples/fl/policy.yaml (purpose income-model: race and native
country never reach training). The final global model is scored on the held-out 20 %, which no client holds.

- record-level DP ("sample"): DP-SGD on every client, the unit of privacy is one person's row. This is the goal's row.
- client-level DP ("client", Flower's client-side fixed clipping + server noise): the unit is a whole client. With
  5 clients its noise must hide an entire organization's contribution; it is shown for honesty, not as the goal.

    python bench/fl_accuracy.py [--rounds 4] [--plots DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parents[1]
ADULT = ROOT.parent / "shared" / "data" / "tabular" / "arx-adult" / "adult.csv"
POLICY = ROOT / "examples" / "fl" / "policy.yaml"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--plots", type=Path, default=None)
    ap.add_argument("--runs", default="none,sample:1,sample:3,sample:8,client:8")
    args = ap.parse_args()
    os.environ.setdefault("VEIL_MASTER_KEY", secrets.token_hex(32))  # this bench's throwaway vaults
    from veil.learn.fl import linear
    from veil.learn.fl.run import partition
    from veil.learn.fl.spec import FeatureSpec
    from veil.learn.he.model import train

    df = pl.read_csv(ADULT, separator=";", infer_schema_length=0)
    order = np.random.default_rng(7).permutation(df.height)
    cut = int(df.height * 0.8)
    train_df, test_df = df[order[:cut].tolist()], df[order[cut:].tolist()]
    kept = ["age", "sex", "education", "marital-status", "occupation", "workclass", "salary-class"]
    spec = FeatureSpec.fit(df.select(kept), "salary-class", ">50K", ["age"])
    x_test = spec.encoder.transform(test_df)
    y_test = (np.asarray(test_df["salary-class"].to_list()) == ">50K").astype(float)
    central = train(train_df.select(kept).with_columns(pl.col("age").cast(pl.Float64)), "salary-class", ">50K",
                    ["age"])  # fmt: skip
    central_acc = float(np.mean((central.predict_proba(central.encoder.transform(test_df)) > 0.5) == (y_test > 0.5)))
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        parts = []
        for i, part in enumerate(partition(train_df, "workclass", 5)):
            parts.append(str(home / f"part-{i}.csv"))
            part.write_csv(parts[-1])
        sizes = [pl.read_csv(p).height for p in parts]
        print(f"Adult: {train_df.height:,} training rows in 5 clients {sizes} (by workclass), {test_df.height:,} "
              f"held-out test rows, {spec.width} features; 2 cores, every process on one machine\n")  # fmt: skip
        print("| run | DP unit | epsilon (target) | epsilon charged to the ledger | noise z | test accuracy "
              "| vs centralized | clients' own accuracy | s / round |")
        print("|---|---|---|---|---|---|---|---|---|")
        print(f"| centralized, non-private (L-BFGS) | - | - | - | - | {central_acc * 100:.2f} % | - | - | - |")
        for run in args.runs.split(","):
            mode, _, eps = run.partition(":")
            report = _federate(parts, spec, mode, float(eps) if eps else None, args.rounds, home / run)
            params = [np.asarray(report["model"]["weights"]), np.asarray([report["model"]["bias"]])]
            acc = linear.evaluate(params, x_test, y_test)[1]
            per_round = np.mean([r["seconds"] for r in report["rounds"]])
            unit = {"none": "-", "sample": "record", "client": "client"}[mode]
            last = report["rounds"][-1]["accuracy"]
            noise = f"{report['noise_multiplier']:.4g}" if mode != "none" else "-"
            print(f"| federated, SecAgg+, {mode} | {unit} | {eps or '-'} | {report['charged']:.4g} | {noise} "
                  f"| {acc * 100:.2f} % | {(acc - central_acc) * 100:+.2f} points | {last * 100:.2f} % "
                  f"| {per_round:.1f} |")  # fmt: skip
            if args.plots:
                from veil.learn.fl.report import plot_svg

                args.plots.mkdir(parents=True, exist_ok=True)
                (args.plots / f"fl-{mode}-{eps or 'none'}.svg").write_text(plot_svg(report))


def _federate(parts: list[str], spec: Any, mode: str, epsilon: float | None, rounds: int, home: Path) -> Any:
    from veil.dp.ledger import Ledger
    from veil.learn.fl.accounting import calibrate
    from veil.learn.fl.run import run_local
    from veil.learn.fl.spec import RunSettings
    from veil.vault.vault import Vault

    home.mkdir(parents=True)
    url = f"sqlite:///{home}/server.db"
    ledger = Ledger.of(Vault(url))
    ledger.set_budget("adult-fl", 10.0, 1e-4)
    noise = 0.0
    if mode != "none":
        assert epsilon is not None
        noise = calibrate(mode, epsilon, rounds=rounds, delta=1e-5, sample_rate=0.01, local_steps=100,  # type: ignore[arg-type]
                          clip=1.0 if mode == "sample" else 0.5).noise_multiplier  # fmt: skip
    settings = RunSettings(spec=spec.to_json(), dataset="adult-fl", rounds=rounds, mode=mode, noise_multiplier=noise,
                           clip=1.0 if mode == "sample" else 0.5, sample_rate=0.01, local_steps=100, clients=5,
                           min_clients=4, secagg_threshold=3, round_timeout=120, learning_rate=0.5)  # fmt: skip
    started = time.perf_counter()
    report: dict[str, Any] = run_local(parts, settings, home=home / "fl", vault_url=url, policy=str(POLICY),
                                       purpose="income-model", timeout=3600)  # fmt: skip
    report["wall"] = time.perf_counter() - started
    report["noise_multiplier"] = noise
    report["charged"] = sum(s.epsilon for s in ledger.budget("adult-fl").spends)
    (home / "report.json").write_text(json.dumps(report))
    return report


if __name__ == "__main__":
    main()

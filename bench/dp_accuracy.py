"""Differential privacy accuracy: relative error against epsilon for each query kind, and DP-SGD against
non-private training.

Datasets: ARX's Adult (30,162 rows) and NIST's national 2019 ACS excerpt (27,253 rows). For each query and epsilon
the OpenDP measurement is calibrated once and released --runs times (no ledger: this measures the mechanisms);
the table shows the median relative error |released - true| / |true| (for grouped queries the mean over groups of
|released - true| / max(true, 1), and for private keys the share of groups released). DP-SGD: a 2-layer network
on Adult (salary > 50K from the other eight columns), 80/20 split, 5 epochs, Opacus at delta 1e-5, against the same
training without privacy; median test accuracy over --seeds.

    python bench/dp_accuracy.py [--runs 25] [--seeds 3] [--cases queries,sgd]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import polars as pl

HERE = Path(__file__).resolve().parent
DATA = HERE.parent.parent / "shared" / "data" / "tabular"
sys.path.insert(0, str(HERE.parent / "src"))
sys.path.insert(0, str(HERE))

from _markdown import markdown_table  # noqa: E402
from veil.dp import PlannedQuery, parse_query  # noqa: E402
from veil.dp.queries import _post_process  # noqa: E402

EPSILONS = (0.1, 0.5, 1.0, 2.0, 5.0)


def _datasets() -> list[tuple[str, pl.DataFrame, list[tuple[str, dict[str, Any]]]]]:
    adult = pl.read_csv(DATA / "arx-adult" / "adult.csv", separator=";", infer_schema=False)
    nist = pl.read_csv(DATA / "nist-diverse-communities-excerpts" / "national2019.csv", infer_schema=False)
    nist = nist.with_columns(pl.when(pl.col("PINCP") == "N").then(None).otherwise(pl.col("PINCP")).alias("PINCP"))
    nist = nist.filter(pl.col("PINCP").is_not_null())
    age = {"age": (17, 90)}
    income = {"PINCP": (0, 250_000)}
    return [
        ("Adult", adult, [
            ("count", {}),
            ("count by race", {"keys": {"race": sorted(adult["race"].unique().to_list())}}),
            ("count by native-country", {"delta": 1e-6}),
            ("sum age", {"bounds": age}),
            ("mean age", {"bounds": age}),
            ("variance age", {"bounds": age}),
            ("median age", {"bounds": age}),
            ("mean age by sex", {"bounds": age, "keys": {"sex": ["Female", "Male"]}}),
        ]),
        ("NIST national2019 (with income)", nist, [
            ("count", {}),
            ("count by EDU", {"keys": {"EDU": sorted(nist["EDU"].unique().to_list())}}),
            ("count by PUMA", {"delta": 1e-6}),
            ("sum PINCP", {"bounds": income}),
            ("mean PINCP", {"bounds": income}),
            ("variance PINCP", {"bounds": income}),
            ("median PINCP", {"bounds": income}),
            ("mean PINCP by SEX", {"bounds": income, "keys": {"SEX": ["1", "2"]}}),
        ]),
    ]  # fmt: skip


def _truth(frame: pl.DataFrame, planned: PlannedQuery) -> pl.DataFrame:
    spec = planned.spec
    data = planned.data
    value = pl.col(spec.column).cast(pl.Float64) if spec.column else None
    aggs = {
        "count": [pl.len().alias("count")],
        "sum": [value.sum().alias("sum")] if value is not None else [],
        "mean": [value.mean().alias("mean")] if value is not None else [],
        "variance": [value.var().alias("variance")] if value is not None else [],
        "quantile": [value.quantile(spec.quantile or 0.5, "nearest").alias("q")] if value is not None else [],
    }[spec.kind]
    return data.group_by(spec.by).agg(aggs) if spec.by else data.select(aggs)


def _relative(planned: PlannedQuery, released: pl.DataFrame, truth: pl.DataFrame) -> tuple[float, float | None]:
    spec = planned.spec
    name = {"count": "count", "sum": "sum", "mean": "mean", "variance": "variance"}.get(spec.kind)
    if spec.kind == "quantile":
        t = float(truth.item())
        return abs(float(released.item()) - t) / abs(t), None
    assert name is not None
    if not spec.by:
        t = float(truth[name].item())
        return abs(float(released[name].item()) - t) / abs(t), None
    joined = truth.join(released.select([*spec.by, pl.col(name).alias("noisy")]), on=spec.by, how="left")
    got = joined.filter(pl.col("noisy").is_not_null())
    if got.height == 0:
        return float("nan"), 0.0
    errors = ((got["noisy"].cast(pl.Float64) - got[name].cast(pl.Float64)).abs()
              / got[name].cast(pl.Float64).abs().clip(lower_bound=1.0))  # fmt: skip
    share = got.height / truth.height if planned.keys is None else None
    return float(errors.mean()), share  # type: ignore[arg-type]


def bench_queries(runs: int) -> None:
    for name, frame, queries in _datasets():
        rows = []
        for text, options in queries:
            cells = [text]
            for eps in EPSILONS:
                planned = PlannedQuery(frame, parse_query(text), epsilon=eps, **options)
                truth = _truth(frame, planned)
                measurement = planned.measurement()
                errors, shares = [], []
                for _ in range(runs):
                    released = _post_process(planned.spec, measurement(planned.data.lazy()).collect(), planned.bounds)
                    err, share = _relative(planned, released, truth)
                    errors.append(err)
                    if share is not None:
                        shares.append(share)
                cell = f"{statistics.median(errors) * 100:.2g}%"
                if shares:
                    cell += f" ({statistics.median(shares):.0%} groups)"
                cells.append(cell)
            rows.append(cells)
        print(f"{name}: median relative error over {runs} releases\n")
        markdown_table(["query", *(f"eps={e:g}" for e in EPSILONS)], rows)


def bench_sgd(seeds: int) -> None:
    import torch

    from veil.dp.training import accuracy, encode_table, train_plain, train_private

    torch.set_num_threads(2)
    warnings.filterwarnings("ignore")
    adult = pl.read_csv(DATA / "arx-adult" / "adult.csv", separator=";", infer_schema=False)
    x, y, _ = encode_table(adult, label="salary-class", positive=">50K", numeric=["age"])
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(0))
    train, test = order[: int(0.8 * len(x))], order[int(0.8 * len(x)) :]

    def model() -> Any:
        return torch.nn.Sequential(torch.nn.Linear(x.shape[1], 32), torch.nn.ReLU(), torch.nn.Linear(32, 2))

    rows = []
    base, seconds = [], []
    for seed in range(seeds):
        start = time.perf_counter()
        m = train_plain(model(), x[train], y[train], epochs=5, seed=seed)
        seconds.append(time.perf_counter() - start)
        base.append(accuracy(m, x[test], y[test]))
    majority = float(1 - y[test].float().mean())
    rows.append(["non-private", "-", "-", f"{statistics.median(base):.4f}", f"{statistics.median(seconds):.1f}"])
    for eps in (1.0, 3.0, 8.0):
        accs, spent, noise, seconds = [], [], [], []
        for seed in range(seeds):
            result = train_private(model(), x[train], y[train], target_epsilon=eps, target_delta=1e-5, epochs=5,
                                   seed=seed)  # fmt: skip
            accs.append(accuracy(result.model, x[test], y[test]))
            spent.append(result.epsilon)
            noise.append(result.noise_multiplier)
            seconds.append(result.seconds)
        rows.append([f"DP-SGD eps={eps:g}", f"{max(spent):.3f}", f"{statistics.median(noise):.2f}",
                     f"{statistics.median(accs):.4f}", f"{statistics.median(seconds):.1f}"])  # fmt: skip
    print(f"DP-SGD on Adult (24,129 train / 6,033 test rows, 5 epochs, delta 1e-5, median of {seeds} seeds; "
          f"always answering <=50K scores {majority:.4f})\n")  # fmt: skip
    markdown_table(["training", "epsilon spent", "noise multiplier", "test accuracy", "seconds"], rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=25)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--cases", default="queries,sgd")
    args = parser.parse_args()
    cases = set(args.cases.split(","))
    if "queries" in cases:
        bench_queries(args.runs)
    if "sgd" in cases:
        bench_sgd(args.seeds)


if __name__ == "__main__":
    main()

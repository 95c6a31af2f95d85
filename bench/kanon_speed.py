"""k-anonymity speed: the optimal search on ARX's Adult, and Mondrian on a million rows.

Goals (issue 7): on Adult (30,162 rows, 9 quasi-identifiers, ARX's hierarchies) find the optimum in < 100 ms for
k in {2, 5, 10, 50, 100} (ARX's Flash: 27.4 ms for k=5 in the 2014 anonbench run); Mondrian on 1,000,000 rows in
< 30 s. Search time excludes reading and encoding the table (printed separately); each case is the median of
--repeat runs. The 1,000,000 rows are Adult's rows drawn with replacement (seeded), ages jittered by up to +-2 years
so the numbers are not just 30,162 repeated records.

    python bench/kanon_speed.py [--repeat 5] [--rows 1000000] [--cases optimal,models,mondrian]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl

HERE = Path(__file__).resolve().parent
ADULT = HERE.parent.parent / "shared" / "data" / "tabular" / "arx-adult"
sys.path.insert(0, str(HERE.parent / "src"))
sys.path.insert(0, str(HERE))

from _markdown import markdown_table  # noqa: E402
from veil.tabular.privacy import (  # noqa: E402
    Encoded,
    EntropyLDiversity,
    KAnonymity,
    TCloseness,
    load_directory,
    mondrian,
    optimal,
)


def _median_ms(run: object, repeat: int) -> tuple[str, object]:
    """'median (min)' milliseconds over ``repeat`` runs, and the last result."""
    times, result = [], None
    for _ in range(repeat):
        result = run()  # type: ignore[operator]
        times.append(result.seconds * 1000)  # type: ignore[attr-defined]
    return f"{statistics.median(times):.1f} ({min(times):.1f})", result


def bench_optimal(repeat: int) -> None:
    adult = pl.read_csv(ADULT / "adult.csv", separator=";", infer_schema=False)
    hierarchies = load_directory(ADULT / "hierarchies", adult.columns)
    start = time.perf_counter()
    data = Encoded(adult, adult.columns, hierarchies)
    encode_ms = (time.perf_counter() - start) * 1000
    print(f"Adult: {adult.height:,} rows, 9 quasi-identifiers, {np.prod([t + 1 for t in data.tops]):,} "
          f"transformations; encoding {encode_ms:.0f} ms (once per table)\n")  # fmt: skip
    rows = []
    for suppression in (0.0, 0.04):
        for k in (2, 5, 10, 50, 100):
            ms, result = _median_ms(lambda k=k, s=suppression: optimal(data, [KAnonymity(k)], suppression=s), repeat)
            rows.append([str(k), f"{suppression:.0%}", str(list(result.levels)), f"{result.evaluation.loss:,.2f}",  # type: ignore[attr-defined]
                         str(result.checks), ms, "yes" if float(ms.split()[0]) < 100 else "no"])  # type: ignore[attr-defined]  # fmt: skip
    markdown_table(
        ["k", "suppression", "optimal levels", "entropy loss", "checks", "median (min) ms", "< 100 ms"], rows
    )


def bench_models(repeat: int) -> None:
    adult = pl.read_csv(ADULT / "adult.csv", separator=";", infer_schema=False)
    hierarchies = load_directory(ADULT / "hierarchies", adult.columns)
    qis = [c for c in adult.columns if c != "occupation"]
    data = Encoded(adult, qis, hierarchies, sensitive="occupation")
    occupation = hierarchies["occupation"]
    cases = [
        ("entropy-5-diversity", lambda: [EntropyLDiversity(5)], "entropy-nm"),
        ("0.2-closeness equal + k=5", lambda: [TCloseness(0.2), KAnonymity(5)], "discernibility"),
        ("0.2-closeness hierarchical + k=5", lambda: [TCloseness(0.2, "hierarchical", occupation), KAnonymity(5)],
         "entropy"),
        ("0.2-closeness ordered + k=5", lambda: [TCloseness(0.2, "ordered"), KAnonymity(5)], "discernibility"),
    ]  # fmt: skip
    rows = []
    for name, models, metric in cases:
        for suppression in (0.0, 0.04):
            ms, result = _median_ms(lambda m=models, s=suppression, mt=metric: optimal(data, m(), suppression=s,
                                                                                       metric=mt), repeat)  # fmt: skip
            rows.append([name, f"{suppression:.0%}", metric, str(list(result.levels)), str(result.checks),  # type: ignore[attr-defined]
                         ms])  # fmt: skip
    print("Occupation sensitive, 8 quasi-identifiers (ARX's test cases):\n")
    markdown_table(["models", "suppression", "metric", "optimal levels", "checks", "median (min) ms"], rows)


def bench_mondrian(n: int) -> None:
    adult = pl.read_csv(ADULT / "adult.csv", separator=";", infer_schema=False)
    hierarchies = load_directory(ADULT / "hierarchies", adult.columns)
    hierarchies.pop("age")  # ages become numbers (jittered), cut at medians
    rng = np.random.default_rng(7)
    big = adult[rng.integers(0, adult.height, n)]
    ages = big["age"].cast(pl.Int64).to_numpy() + rng.integers(-2, 3, n)
    big = big.with_columns(pl.Series("age", ages.astype(str)))
    qis = [c for c in adult.columns if c != "salary-class"]
    rows = []
    for k, extra in ((5, None), (10, None), (100, None), (5, "l")):
        models = [KAnonymity(k)] + ([EntropyLDiversity(1.5)] if extra else [])
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        result = mondrian(big, qis, models, hierarchies=hierarchies, sensitive="salary-class" if extra else None)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        label = f"k={k}" + (", entropy-1.5-diversity of salary" if extra else "")
        rows.append([label, f"{n:,}", f"{len(result.sizes):,}", str(int(result.sizes.min())), str(result.rounds),
                     f"{result.loss:.4f}", f"{result.seconds:.1f}", "yes" if result.seconds < 30 else "no",
                     f"{max(peak, before) / 1024:.0f}"])  # fmt: skip
    print(f"Mondrian, {len(qis)} quasi-identifiers:\n")
    markdown_table(["models", "rows", "classes", "smallest", "rounds", "normalised loss", "seconds", "< 30 s",
            "peak RSS MB"], rows)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--cases", default="optimal,models,mondrian")
    args = parser.parse_args()
    cases = set(args.cases.split(","))
    if "optimal" in cases:
        bench_optimal(args.repeat)
    if "models" in cases:
        bench_models(max(1, args.repeat // 2))
    if "mondrian" in cases:
        bench_mondrian(args.rows)


if __name__ == "__main__":
    main()

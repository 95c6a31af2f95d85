"""What DP-SGD buys against leak audits: membership inference on Adult and canary exposure in a character model,
non-private next to DP-SGD at epsilon 1, 3 and 8 (Veil's path: Opacus, RDP accountant).

Membership: a 64-unit MLP trained on 3,000 rows of ARX's Adult (../shared/data), attacked on those 3,000 members
against 3,000 held-out rows by the loss-threshold attack and LiRA (8 shadow models, each on a random half of the
6,000); the table shows the strongest attack. Canaries: 10,000 Faker sentences (seeded), one line each, with fake
SSNs (9xx area) and card numbers planted in 1, 4 and 16 lines; a window-24 character model trained 10 epochs, each
line one example (the unit DP-SGD protects); exposure in bits (max 26.6 / 53.2), and the bits per character on
held-out lines to show what the model still learned.

    python bench/model_audit.py [--skip-canaries] [--skip-membership] [--lines 10000]
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
import polars as pl

ADULT = Path(__file__).resolve().parents[2] / "shared" / "data" / "tabular" / "arx-adult" / "adult.csv"
EPSILONS: list[float | None] = [None, 8.0, 3.0, 1.0]


def _label(eps: float | None) -> str:
    return "non-private" if eps is None else f"DP-SGD epsilon {eps:g}"


def membership(rows: int) -> None:
    from veil.learn.audit.estimators import factory
    from veil.learn.audit.membership import audit_membership
    from veil.learn.encoding import Encoder

    df = pl.read_csv(ADULT, separator=";").sample(2 * rows, seed=1, shuffle=True)
    cats = [c for c in df.columns if c not in ("age", "salary-class")]
    x = Encoder.fit(df[:rows], ["age"], cats).transform(df)
    y = (df["salary-class"] == ">50K").cast(pl.Int64).to_numpy()
    print(f"\nMembership inference, Adult MLP-64, {rows:,} members vs {rows:,} held-out, LiRA with 8 shadows\n")
    print("| training | epsilon spent | train acc | held-out acc | loss AUC | LiRA offline AUC | LiRA online AUC "
          "| TPR @ 0.1 % FPR | TPR @ 1 % FPR | seconds |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for eps in EPSILONS:
        r = audit_membership(factory("mlp", epsilon=eps, epochs=30, seed=0), x[:rows], y[:rows], x[rows:], y[rows:],
                             shadows=8, seed=0)  # fmt: skip
        auc = {a.name: a.roc.auc for a in r.attacks}
        best = r.strongest.roc
        spent = "-" if r.epsilon is None else f"{r.epsilon:.2f}"
        print(f"| {_label(eps)} | {spent} | {r.train_accuracy:.4f} | {r.test_accuracy:.4f} | {auc['loss']:.3f} | "
              f"{auc['lira-offline']:.3f} | {auc['lira-online']:.3f} | {best.tpr_at(1e-3):.2%} | "
              f"{best.tpr_at(1e-2):.2%} | {r.seconds:.0f} |", flush=True)  # fmt: skip


def canaries(count: int) -> None:
    from faker import Faker

    from veil.learn.audit.canary import exposure, make_canaries, plant
    from veil.learn.audit.charlm import bits_per_char, train_charlm

    fake = Faker("en_US")
    fake.seed_instance(7)
    corpus = [fake.sentence(nb_words=12) for _ in range(count)]
    held = [fake.sentence(nb_words=12) for _ in range(500)]  # never trained on: what the model learned in general
    rng = np.random.default_rng(1)
    planted = make_canaries(["ssn", "card"], [1, 4, 16], rng)
    lines = plant(corpus, planted, rng)
    print("\nCanary exposure (bits: at most 26.6 for an SSN, 53.2 for a card), character "
          f"model, {len(lines):,} lines ({sum(map(len, lines)):,} characters; a line is the unit DP-SGD protects), "
          "10 epochs, 2,000 candidates;\nheld-out: bits per character on 500 unseen lines (lower is better)\n")
    head = " | ".join(f"{c.kind} x{c.repeats}" for c in planted)
    print(f"| training | epsilon spent | held-out bits/char | {head} | seconds |")
    print("|---|---|---|" + "---|" * len(planted) + "---|")
    for eps in EPSILONS:
        start = time.perf_counter()
        lm = train_charlm(lines, epochs=10, epsilon=eps, seed=0, extra_chars="0123456789 -")
        found = [exposure(lm, c, candidates=2000, seed=2).exposure for c in planted]
        spent = "-" if lm.epsilon is None else f"{lm.epsilon:.2f}"
        cells = " | ".join(f"{e:.1f}" for e in found)
        seconds = time.perf_counter() - start
        print(f"| {_label(eps)} | {spent} | {bits_per_char(lm, held):.2f} | {cells} | {seconds:.0f} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=3000)
    parser.add_argument("--lines", type=int, default=10_000)
    parser.add_argument("--skip-canaries", action="store_true")
    parser.add_argument("--skip-membership", action="store_true")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    if not args.skip_membership:
        membership(args.rows)
    if not args.skip_canaries:
        canaries(args.lines)


if __name__ == "__main__":
    main()

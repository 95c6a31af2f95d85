"""Encrypted inference on Adult (TenSEAL CKKS): agreement with the plaintext model, throughput with packing,
the latency of one record, ciphertext sizes; and encrypted aggregation across parties.

The logistic regression is trained in the clear on 80 % of ARX's Adult (../shared/data), the other 20 % is
encrypted by the client (one ciphertext per feature, records in the slots), scored by the server with the public
context only (weighted sum + degree-3 sigmoid), decrypted by the client. "rows layout" is the same model scored one
record per ciphertext with TenSEAL's encrypted dot product (rotations: Galois keys): Veil's ``rows`` layout.
The small MLP (square activation) follows at N=16384. Federated learning: bench/fl_accuracy.py.

    python bench/learn_speed.py [--poly 8192]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

ADULT = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "tabular" / "arx-adult" / "adult.csv"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--poly", type=int, default=8192)
    args = ap.parse_args()

    from veil.learn.he import aggregate
    from veil.learn.he.model import train
    from veil.learn.he.params import CkksParams, make_keys
    from veil.learn.he.scoring import decrypt, encrypt, score

    df = pl.read_csv(ADULT, separator=";").with_columns(pl.col("age").cast(pl.Float64, strict=False))
    cut = int(df.height * 0.8)
    t = time.perf_counter()
    model = train(df[:cut], "salary-class", ">50K", ["age"])
    train_s = time.perf_counter() - t
    x = model.encoder.transform(df[cut:])
    truth = np.asarray(df[cut:]["salary-class"].to_list()) == ">50K"
    plain = model.predict_proba(x) > 0.5
    params = CkksParams() if args.poly == 8192 else CkksParams(args.poly, (60, 40, 40, 40, 60), 40)
    keys = make_keys(params)
    t = time.perf_counter()
    batches = encrypt(keys, x, slots=params.slots)
    enc_s = time.perf_counter() - t
    t = time.perf_counter()
    scored = [score(keys.public, model, b) for b in batches]
    score_s = time.perf_counter() - t
    t = time.perf_counter()
    got = np.concatenate([decrypt(keys, s) for s in scored])
    dec_s = time.perf_counter() - t
    agree = float(np.mean((got > 0.5) == plain))
    t = time.perf_counter()
    one = encrypt(keys, x[:1], slots=params.slots)[0]
    decrypt(keys, score(keys.public, model, one))
    one_s = time.perf_counter() - t

    rows = [_rows(p, model, x[:300], plain[:300]) for p in (params, CkksParams(16384, (60, 40, 40, 40, 60), 40))]

    n = len(x)
    print(f"Adult: {n:,} test records, {len(model.weights)} features; plaintext accuracy "
          f"{np.mean(plain == truth):.4f}; trained in {train_s:.1f} s; parameters {params.describe()}\n")  # fmt: skip
    print("| measure | value |")
    print("|---|---|")
    print(f"| agreement of encrypted and plaintext predictions | {agree * 100:.3f} % |")
    worst = np.max(np.abs(got - model.poly_proba(x)))
    print(f"| largest difference of an encrypted score from the plaintext polynomial | {worst:.2e} |")
    print(f"| client: encrypt {n:,} records ({len(batches)} batches) | {enc_s:.2f} s ({n / enc_s:,.0f} records/s) |")
    print(f"| server: score them, packed | {score_s:.2f} s (**{n / score_s:,.0f} records/s**) |")
    print(f"| client: decrypt the scores | {dec_s:.3f} s |")
    print(f"| end to end, packed | {n / (enc_s + score_s + dec_s):,.0f} records/s |")
    print(f"| one record alone (encrypt, score, decrypt) | {one_s * 1000:.0f} ms |")
    for r in rows:
        print(f"| rows layout at N={r['n']}: one record alone, end to end (the server loads its {r['mb']:.0f} MB "
              f"context) | {r['one_ms']:.0f} ms |")  # fmt: skip
        print(f"| rows layout at N={r['n']}, context loaded: encrypt / score one record; agreement on 300, largest "
              f"error | {r['enc_ms']:.0f} / {r['score_ms']:.0f} ms; {r['agree'] * 100:.2f} %, {r['err']:.1e} |")
    print(f"| public context (what the server gets) | {len(keys.public) / 1e6:.1f} MB |")
    first = batches[0]
    print(f"| one batch of {first.rows:,} records ({len(first.columns)} ciphertexts) | "
          f"{first.size / 1e6:.1f} MB ({first.size / first.rows / 1e3:.1f} kB per record) |")  # fmt: skip
    print(f"| its scores (one ciphertext) | {len(scored[0].scores) / 1e3:.0f} kB |")
    parties = [list(np.random.default_rng(i).normal(size=1000)) for i in range(5)]
    t = time.perf_counter()
    shares = [aggregate.contribute(keys.public, p) for p in parties]
    total = aggregate.add(keys.public, shares)
    mean = aggregate.reveal(keys, total, len(parties), mean=True)[:1000]
    agg_s = time.perf_counter() - t
    err = float(np.max(np.abs(np.asarray(mean) - np.mean(parties, axis=0))))
    print(f"| encrypted mean of 5 parties x 1,000 values (encrypt, add, decrypt) | {agg_s * 1000:.0f} ms, "
          f"max error {err:.1e} |")  # fmt: skip
    _mlp(df, cut, truth)


def _rows(params: Any, model: Any, x: np.ndarray, plain: np.ndarray) -> dict[str, Any]:
    """The rows layout (rotation keys; one record per ciphertext, an encrypted dot product)."""
    from veil.learn.he.params import load_context, make_keys
    from veil.learn.he.scoring import decrypt, encrypt, score

    keys = make_keys(params, rotations=True)
    t = time.perf_counter()
    decrypt(keys, score(keys.public, model, encrypt(keys, x[:1], layout="rows")[0]))
    one = time.perf_counter() - t
    ctx = load_context(keys.public, server=True)
    t = time.perf_counter()
    batches = encrypt(keys, x, layout="rows")
    enc = time.perf_counter() - t
    t = time.perf_counter()
    scored = [score(keys.public, model, b, ctx=ctx) for b in batches]
    sc = time.perf_counter() - t
    got = np.concatenate([decrypt(keys, s) for s in scored])
    return {"n": params.poly_modulus_degree, "mb": len(keys.public) / 1e6, "one_ms": one * 1000,
            "enc_ms": enc / len(x) * 1000, "score_ms": sc / len(x) * 1000,
            "agree": float(np.mean((got > 0.5) == plain)), "err": float(np.max(np.abs(got - model.poly_proba(x))))}


def _mlp(df: pl.DataFrame, cut: int, truth: np.ndarray) -> None:
    """The small MLP (8 square-activated hidden units) at N=16384: 8,192 records per ciphertext."""
    from veil.learn.he.mlp import MLP_PARAMS, train_mlp
    from veil.learn.he.params import make_keys
    from veil.learn.he.scoring import decrypt, encrypt, score

    t = time.perf_counter()
    model = train_mlp(df[:cut], "salary-class", ">50K", ["age"], hidden=8)
    train_s = time.perf_counter() - t
    x = model.encoder.transform(df[cut:])
    plain = model.predict_proba(x) > 0.5
    keys = make_keys(MLP_PARAMS)
    batches = encrypt(keys, x, slots=MLP_PARAMS.slots)
    t = time.perf_counter()
    scored = [score(keys.public, model, b) for b in batches]
    score_s = time.perf_counter() - t
    got = np.concatenate([decrypt(keys, s) for s in scored])
    n = len(x)
    print(f"\nMLP, 8 hidden units (square), trained in {train_s:.1f} s; parameters {MLP_PARAMS.describe()}\n")
    print("| measure | value |")
    print("|---|---|")
    print(f"| plaintext test accuracy (the logistic regression's is above) | {np.mean(plain == truth):.4f} |")
    print(f"| agreement of encrypted and plaintext predictions | {np.mean((got > 0.5) == plain) * 100:.3f} % |")
    print(f"| largest difference from the plaintext polynomial | {np.max(np.abs(got - model.poly_proba(x))):.2e} |")
    print(f"| server: score {n:,} records in {len(batches)} batch(es) | {score_s:.2f} s "
          f"(**{n / score_s:,.0f} records/s**) |")  # fmt: skip
    print(f"| public context / one batch | {len(keys.public) / 1e6:.1f} MB / {batches[0].size / 1e6:.1f} MB |")


if __name__ == "__main__":
    main()

"""Encrypted inference on Adult (TenSEAL CKKS): agreement with the plaintext model, throughput with packing,
the latency of one record, ciphertext sizes; and encrypted aggregation across parties.

The logistic regression is trained in the clear on 80 % of ARX's Adult (../shared/data), the other 20 % is
encrypted by the client (one ciphertext per feature, records in the slots), scored by the server with the public
context only (weighted sum + degree-3 sigmoid), decrypted by the client. "unbatched" is the same model scored one
record per ciphertext with TenSEAL's encrypted dot product (rotations: Galois keys), the usual first attempt.
Federated learning figures come with the Flower part of issue 18.

    python bench/learn_speed.py [--poly 8192]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import polars as pl

ADULT = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "tabular" / "arx-adult" / "adult.csv"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--poly", type=int, default=8192)
    args = ap.parse_args()
    import tenseal as ts

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

    ctx = ts.context(ts.SCHEME_TYPE.CKKS, poly_modulus_degree=args.poly,
                     coeff_mod_bit_sizes=list(params.coeff_mod_bit_sizes))  # fmt: skip
    ctx.global_scale = 2**params.scale_bits
    ctx.generate_galois_keys()
    w = (model.weights / model.radius).tolist()
    n_unbatched = 20
    t = time.perf_counter()
    for row in x[:n_unbatched]:
        v = ts.ckks_vector(ctx, row.tolist()).dot(w) + model.bias / model.radius
        v.decrypt()
    unbatched_s = (time.perf_counter() - t) / n_unbatched

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
    print(f"| unbatched: one record per ciphertext, encrypted dot product | {unbatched_s * 1000:.0f} ms "
          f"({1 / unbatched_s:.1f} records/s) |")  # fmt: skip
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


if __name__ == "__main__":
    main()

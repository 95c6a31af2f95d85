"""Vault throughput: tokenize (new values, then known values) and detokenize, in ops/s, batched and single.

SQLite (embedded, WAL) always; PostgreSQL too when VEIL_BENCH_PG_URL names a server
(e.g. postgresql://postgres@127.0.0.1:5432/postgres). Goal (issue 4): >= 20,000 tokenize ops/s batched on SQLite.

    python bench/vault_speed.py [--n 50000]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

from veil.vault import MasterKey, Vault


def measure(url: str, n: int) -> list[tuple[str, str, int, float]]:
    key = MasterKey(b"v" * 32, "bench")
    scope = f"bench-{time.time_ns()}"
    items = [("PERSON", f"person number {i}") for i in range(n)]
    rows = []
    v = Vault(url, master_key=key)
    t = time.perf_counter()
    tokens: list[str] = []
    for s in range(0, n, 1000):
        tokens.extend(v.tokenize_many(scope, items[s : s + 1000]))
    rows.append(("tokenize new, batches of 1000", url.split(":")[0], n, time.perf_counter() - t))
    cold = Vault(url, master_key=key)  # empty in-process cache: every lookup goes to the database
    t = time.perf_counter()
    for s in range(0, n, 1000):
        cold.tokenize_many(scope, items[s : s + 1000])
    rows.append(("tokenize known, batches of 1000 (cold cache)", url.split(":")[0], n, time.perf_counter() - t))
    m = min(n, 2000)
    t = time.perf_counter()
    for entity, value in items[:m]:
        Vault.tokenize(cold, scope + "-single", entity, value)
    rows.append(("tokenize new, one at a time", url.split(":")[0], m, time.perf_counter() - t))
    t = time.perf_counter()
    for s in range(0, n, 1000):
        cold.detokenize_many(scope, tokens[s : s + 1000])
    rows.append(("detokenize, batches of 1000", url.split(":")[0], n, time.perf_counter() - t))
    v.close()
    cold.close()
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=50_000)
    args = ap.parse_args()
    urls = [f"sqlite:///{tempfile.mkdtemp()}/bench.db"]
    if os.environ.get("VEIL_BENCH_PG_URL"):
        urls.append(os.environ["VEIL_BENCH_PG_URL"])
    print("| operation | database | ops | ops/s |")
    print("|---|---|---|---|")
    for url in urls:
        for op, db, count, secs in measure(url, args.n):
            print(f"| {op} | {db} | {count} | {count / secs:,.0f} |")


if __name__ == "__main__":
    main()

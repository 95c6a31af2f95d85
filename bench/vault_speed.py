"""Vault throughput: tokenize (new values, then known values) and detokenize, in ops/s, batched and single.

SQLite (embedded, WAL) always; PostgreSQL too with --postgres (a throwaway server on loopback, Debian's
postgresql package) or VEIL_BENCH_PG_URL. Goal (issue 4): >= 20,000 tokenize ops/s batched on SQLite.

    python bench/vault_speed.py [--n 50000] [--postgres]
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
    ap.add_argument("--postgres", action="store_true", help="also start a throwaway PostgreSQL and measure it")
    args = ap.parse_args()
    rows = measure(f"sqlite:///{tempfile.mkdtemp()}/bench.db", args.n)
    if os.environ.get("VEIL_BENCH_PG_URL"):
        rows += measure(os.environ["VEIL_BENCH_PG_URL"], args.n)
    elif args.postgres:
        from veil.storage.testing import fresh_database, postgres_server

        with postgres_server() as server, fresh_database(server) as url:
            rows += measure(url, args.n)
    print("| operation | database | ops | ops/s |")
    print("|---|---|---|---|")
    for op, db, count, secs in rows:
        print(f"| {op} | {db} | {count} | {count / secs:,.0f} |")


if __name__ == "__main__":
    main()

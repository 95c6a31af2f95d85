"""Data-subject request speed: access + erase of one subject across about 1,000,000 rows in 6 tables.

The sample shop (customers, orders, order items, products, support tickets whose text holds the e-mail, a
newsletter table without a key) is built with N customers (111,112 customers make 1,000,000 rows), scanned once
into a data map (``veil scan-db`` does the same), then one subject is located, exported and erased: each step
timed, on SQLite and, with --postgres, on a throwaway PostgreSQL on loopback. The source has no index beyond its
primary keys (what an untuned database has). Goal (issue 16): access + erase < 10 s on each.

    python bench/dsar_speed.py [--customers 111112] [--postgres]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, select
from sqlalchemy import text as sql_text

from veil.detect import Detector
from veil.governance.runner import Governor
from veil.governance.sample import build_shop, person
from veil.policy import Policy
from veil.tabular.datamap import scan_database
from veil.tabular.location import Location
from veil.vault import MasterKey, Vault


def _rows(url: str) -> int:
    engine = create_engine(url)
    with engine.connect() as conn:
        names = ["customers", "orders", "order_items", "products", "tickets", "newsletter"]
        n = sum(conn.execute(select(func.count()).select_from(sql_text(t))).scalar_one() for t in names)
    engine.dispose()
    return int(n)


def measure(url: str, customers: int, work: Path) -> list[tuple[str, str, float]]:
    backend = url.split(":")[0].split("+")[0]
    out: list[tuple[str, str, float]] = []
    t = time.perf_counter()
    build_shop(create_engine(url), customers)
    out.append((f"build the shop ({_rows(url):,} rows)", backend, time.perf_counter() - t))
    t = time.perf_counter()
    data_map = scan_database(Location("sql", url, None), Detector(ner=False)).to_dict()
    (work / f"{backend}.datamap.json").write_text(json.dumps(data_map))
    out.append(("data map (scan-db, 1,000-row samples)", backend, time.perf_counter() - t))
    policy = Policy.model_validate({
        "detection": {"ner": False},
        "purposes": {"orders": {"legal_basis": "contract"}},
        "governance": {"sources": {"shop": {"url": url, "datamap": str(work / f"{backend}.datamap.json"),
                                            "erase": {"orders": "null"}}}},
    })  # fmt: skip
    vault = Vault(f"sqlite:///{work / (backend + '-vault.db')}", master_key=MasterKey(b"b" * 32, "bench"))
    gov = Governor(vault, policy, base=work)
    subject = customers // 2 * 2  # an even customer: one with a support ticket
    _name, mail, _phone = person(subject)
    vault.tokenize("default", "EMAIL_ADDRESS", mail)
    totals: dict[str, Any] = {}
    for kind in ("access", "erase"):
        req = gov.open(mail, kind)  # type: ignore[arg-type]
        gov.verify(req.id, "bench")
        t = time.perf_counter()
        done = gov.run(req.id, out=work / f"{backend}-{kind}.zip")
        seconds = time.perf_counter() - t
        totals[kind] = seconds
        found = done.result["tables"]["shop"] if kind == "access" else done.result["sources"]["shop"]
        rows = sum(v if isinstance(v, int) else v["rows"] for v in found.values())
        out.append((f"{kind} one subject ({rows} rows in {len(found)} tables)", backend, seconds))
    out.append(("access + erase", backend, totals["access"] + totals["erase"]))
    vault.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--customers", type=int, default=111_112)
    ap.add_argument("--postgres", action="store_true", help="also on a throwaway PostgreSQL on loopback")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="veil-dsar-"))
    os.environ["VEIL_HOME"] = str(work / "home")
    rows = measure(f"sqlite:///{work / 'shop.db'}", args.customers, work)
    if args.postgres:
        from veil.storage.testing import fresh_database, postgres_server

        with postgres_server() as server, fresh_database(server) as url:
            rows += measure(url, args.customers, work)
    print("| step | database | seconds |")
    print("|---|---|---|")
    for step, db, secs in rows:
        print(f"| {step} | {db} | {secs:.2f} |")


if __name__ == "__main__":
    main()

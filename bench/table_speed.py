"""Table throughput: scan and anonymize 1,000,000 rows x 12 columns (Faker, with a free-text column).

Each case runs in its own process (so its peak memory is its own) over a CSV made by bench/_tables.py, and
writes Parquet through the atomic sink. Cases:

* scan: classify the 12 columns on a 1,000-row sample (regex tier);
* structured, keyed: the 11 structured columns with operators that need no token storage (hash, mask,
  generalize, keep; the free-text column dropped);
* structured, vault: the same with reversible vault pseudonyms for the 5 direct identifiers (every value new);
* free text: the notes column alone, regex tier, entity values replaced by type (no vault), on --jobs processes;
* spark: the "structured, keyed" policy on a local[2] Spark session (pandas UDFs), written to Parquet.

    python bench/table_speed.py [--rows 1000000] [--jobs 2] [--cases scan,keyed,vault,text,spark]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
CACHE = Path(os.environ.get("VEIL_BENCH_CACHE", Path.home() / ".cache" / "veil-bench"))
STRUCTURED = ["customer_id", "name", "email", "phone", "birth_date", "street_address", "city", "zip_code", "gender",
              "annual_income", "credit_card"]  # fmt: skip
KEYED = {
    "detection": {"ner": False},
    "default": {"operator": "hash"},
    "entities": {"CREDIT_CARD": {"operator": "mask", "keep_last": 4}},
    "columns": {"street_address": {"operator": "generalize", "entity": "STREET_ADDRESS"}},
    "purposes": {"bench": {"columns": STRUCTURED}},
}
VAULT = {**KEYED, "default": {"operator": "pseudonymize"}, "entities": {"CREDIT_CARD": {"operator": "pseudonymize"}}}
TEXT = {"detection": {"ner": False}, "default": {"operator": "replace"}, "purposes": {"bench": {"columns": ["notes"]}}}


def dataset(rows: int) -> Path:
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"customers_{rows}.csv"
    if not path.exists():
        subprocess.run([sys.executable, str(HERE / "_tables.py"), str(rows), str(path)], check=True)
    return path


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_case(case: str, source: Path, jobs: int) -> dict[str, float]:
    import yaml

    from veil.anonymizer import Anonymizer
    from veil.detect import Detector
    from veil.policy.model import Policy
    from veil.tabular.location import parse_location
    from veil.tabular.pipeline import anonymize_table, scan_table

    home = Path(tempfile.mkdtemp())
    os.environ["VEIL_HOME"] = str(home)
    started = time.perf_counter()
    if case == "scan":
        scan = scan_table(parse_location(str(source)), Detector(ner=False))
        return {"seconds": time.perf_counter() - started, "rows": scan.rows_sampled, "peak_mb": _peak_mb()}
    spec = {"keyed": KEYED, "vault": VAULT, "text": TEXT, "spark": KEYED}[case]
    (home / "policy.yaml").write_text(yaml.safe_dump(spec))
    anonymizer = Anonymizer(Policy.model_validate(spec), detector=Detector(ner=False))
    out = home / "out.parquet"
    if case == "spark":
        from veil.tabular.spark import anonymize_spark, local_session

        os.environ["VEIL_KEY_FILE"] = str(home / "master.key")
        anonymizer.vault  # noqa: B018 - creates the key file the executors read
        with local_session(2) as spark:
            df = spark.read.csv(str(source), header=True)
            started = time.perf_counter()
            result, _ = anonymize_spark(df, anonymizer, purpose="bench")
            result.write.mode("overwrite").parquet(str(out))
            seconds = time.perf_counter() - started
            rows = df.count()
        return {"seconds": seconds, "rows": rows, "peak_mb": _peak_mb()}
    report = anonymize_table(parse_location(str(source)), parse_location(str(out)), anonymizer, purpose="bench",
                             n_process=jobs, batch_rows=100_000)  # fmt: skip
    return {"seconds": time.perf_counter() - started, "rows": report.rows_in, "peak_mb": _peak_mb()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--cases", default="scan,keyed,vault,text,spark")
    ap.add_argument("--case", help=argparse.SUPPRESS)
    ap.add_argument("--source", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.case:
        print(json.dumps(run_case(args.case, Path(args.source), args.jobs)))
        return
    source = dataset(args.rows)
    labels = {
        "scan": "scan (classify 12 columns, 1,000-row sample)",
        "keyed": "anonymize 11 structured columns (hash/mask/generalize)",
        "vault": "anonymize 11 structured columns, 5 with vault pseudonyms",
        "text": f"anonymize the free-text column (regex tier, {args.jobs} processes)",
        "spark": "Spark local[2]: 11 structured columns (hash/mask/generalize)",
    }
    print(f"| case ({args.rows:,} rows x 12 columns, {source.stat().st_size / 1e6:.0f} MB CSV) | seconds | rows/s "
          "| peak memory |")  # fmt: skip
    print("|---|---|---|---|")
    for case in args.cases.split(","):
        cmd = [sys.executable, __file__, "--case", case, "--source", str(source), "--jobs", str(args.jobs)]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            print(f"| {labels[case]} | failed: {done.stderr.strip().splitlines()[-1:]} | | |")
            continue
        r = json.loads(done.stdout.strip().splitlines()[-1])
        rate = "-" if case == "scan" else f"{r['rows'] / r['seconds']:,.0f}"
        print(f"| {labels[case]} | {r['seconds']:.1f} | {rate} | {r['peak_mb']:,.0f} MB |")


if __name__ == "__main__":
    main()

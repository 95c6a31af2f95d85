"""Memorized secrets (Carlini et al., "The Secret Sharer", 2019): plant canaries, train, measure their exposure.

A canary is a random secret in a fixed format (a fake SSN in the never-assigned 9xx area, a card number) inside a
sentence, inserted ``repeats`` times in the training text. Its exposure is log2 |space| - log2 rank, where rank is
its place among every possible secret ordered by the model's perplexity; the rank is extrapolated from a sample of
random candidates with a skew-normal fit of their perplexities (the paper's section 4.3). Exposure near 0: the model
likes the canary no more than a random secret; near log2 |space|: it has memorized it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.stats import skewnorm

from veil.errors import ConfigError
from veil.learn.audit.charlm import CharLM

DIGITS = "0123456789"
# name -> (sentence before the secret, the secret's shape: D a random digit, anything else literal)
FORMATS = {
    "ssn": ("my social security number is ", "9DD-DD-DDDD"),
    "card": ("the card number is ", "DDDD DDDD DDDD DDDD"),
    "pin": ("the door code is ", "DDDDDD"),
}


@dataclass(frozen=True)
class Canary:
    kind: str
    prefix: str
    secret: str
    repeats: int

    @property
    def text(self) -> str:
        return self.prefix + self.secret


def _draw(shape: str, rng: np.random.Generator, count: int) -> list[str]:
    picks = rng.integers(0, 10, size=(count, shape.count("D")))
    out = []
    for row in picks:
        digits = iter(row)
        out.append("".join(DIGITS[next(digits)] if c == "D" else c for c in shape))
    return out


def space_bits(kind: str) -> float:
    return FORMATS[kind][1].count("D") * math.log2(10)


def make_canaries(kinds: list[str], repeats: list[int], rng: np.random.Generator) -> list[Canary]:
    unknown = [k for k in kinds if k not in FORMATS]
    if unknown:
        raise ConfigError(f"unknown canary kind(s) {', '.join(unknown)}; use {', '.join(FORMATS)}")
    if any(r < 0 for r in repeats):
        raise ConfigError("repeats must be 0 or more")
    return [Canary(k, FORMATS[k][0], _draw(FORMATS[k][1], rng, 1)[0], r) for k in kinds for r in repeats]


def plant(lines: list[str], canaries: list[Canary], rng: np.random.Generator) -> list[str]:
    """The corpus lines with each canary's sentence inserted ``repeats`` times at random places."""
    out = list(lines)
    for canary in canaries:
        for _ in range(canary.repeats):
            out.insert(int(rng.integers(0, len(out) + 1)), canary.text)
    return out


@dataclass(frozen=True)
class Exposure:
    canary: Canary
    log2_perplexity: float
    exposure: float  # extrapolated, at most log2 |space|
    sampled_rank: int  # random candidates the model prefers to the canary (of ``candidates``)
    candidates: int

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.canary.kind, "repeats": self.canary.repeats, "exposure": round(self.exposure, 2),
                "max_exposure": round(space_bits(self.canary.kind), 2),
                "log2_perplexity": round(self.log2_perplexity, 2), "sampled_rank": self.sampled_rank,
                "candidates": self.candidates}  # fmt: skip


def exposure(lm: CharLM, canary: Canary, *, candidates: int = 2000, seed: int = 0) -> Exposure:
    shape = FORMATS[canary.kind][1]
    others = _draw(shape, np.random.default_rng(seed), candidates)
    scores = lm.log2_perplexity(canary.prefix, [canary.secret, *others])
    mine, rest = float(scores[0]), scores[1:]
    a, loc, scale = skewnorm.fit(rest)
    below = float(skewnorm.cdf(mine, a, loc, scale))
    bits = space_bits(canary.kind)
    value = bits if below <= 0 else min(bits, max(0.0, -math.log2(below)))
    return Exposure(canary, mine, value, int((rest < mine).sum()), candidates)

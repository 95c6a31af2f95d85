"""Learned baselines: streaming statistics from river, tail probabilities from scipy."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from veil.errors import MissingExtraError

try:
    from river import proba, stats
    from scipy.stats import binom, norm, poisson
except ImportError as exc:  # pragma: no cover - the extra names itself
    raise MissingExtraError("monitor", exc.name or "river") from None


@dataclass
class Settings:
    warmup: timedelta = timedelta(days=3)
    sensitivity: float = 1e-4  # a tail probability below this is anomalous
    refusal_burst: int = 10
    dp_plan_days: float | None = None
    min_windows: int = 12  # closed windows a per-key baseline needs before it judges

    @property
    def z(self) -> float:
        return float(norm.isf(self.sensitivity))


class LogVolume:
    """Hourly (or daily) totals on a log scale, a Gaussian fitted by river; anomalous windows stay out of it."""

    def __init__(self) -> None:
        self.fit = proba.Gaussian()  # type: ignore[no-untyped-call]

    def learn(self, total: float) -> None:
        self.fit.update(math.log1p(total))  # type: ignore[no-untyped-call]

    @property
    def windows(self) -> int:
        return int(self.fit.n_samples)

    def limit(self, z: float) -> float:
        """The total above which a window is anomalous (at least twice the typical one)."""
        sigma = max(float(self.fit.sigma or 0.0), 0.25)
        return max(math.expm1(self.fit.mu + z * sigma), 2 * math.expm1(self.fit.mu))

    def typical(self) -> float:
        return math.expm1(self.fit.mu)


class Rate:
    """Events per window: a long-run mean (river) and the Poisson tail of a window's count."""

    def __init__(self) -> None:
        self.mean = stats.Mean()

    def learn(self, count: float) -> None:
        self.mean.update(count)

    def tail(self, count: int) -> float:
        return float(poisson.sf(count - 1, max(float(self.mean.get()), 1e-3)))


class Proportion:
    """A running share of events with a property (river), and the binomial tail of a window's share."""

    def __init__(self) -> None:
        self.mean = stats.Mean()

    def learn(self, hit: bool) -> None:
        self.mean.update(1.0 if hit else 0.0)

    @property
    def p(self) -> float:
        return float(self.mean.get())

    def tail(self, hits: int, n: int) -> float:
        return float(binom.sf(hits - 1, n, min(max(self.p, 1e-4), 1 - 1e-9)))


@dataclass
class HourProfile:
    """When a principal acts: actions per hour of the day, and the days with any action in each hour."""

    counts: Counter[int] = field(default_factory=Counter)
    days: defaultdict[int, set[str]] = field(default_factory=lambda: defaultdict(set))
    active: set[str] = field(default_factory=set)
    first: datetime | None = None

    def learn(self, at: datetime) -> None:
        day = at.strftime("%Y-%m-%d")
        self.counts[at.hour] += 1
        self.days[at.hour].add(day)
        self.active.add(day)
        self.first = self.first or at

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def band_share(self, hour: int) -> float:
        """The share of actions in the 3-hour band around ``hour`` (smoothed)."""
        band = sum(self.counts[(hour + d) % 24] for d in (-1, 0, 1))
        return (band + 0.5) / (self.total + 12)

    def band_days(self, hour: int) -> float:
        """The share of active days with an action in the 3-hour band around ``hour``: occasional overtime is a
        small share of actions but a regular share of days."""
        seen = set().union(*(self.days.get((hour + d) % 24, set()) for d in (-1, 0, 1)))
        return len(seen) / max(len(self.active), 1)

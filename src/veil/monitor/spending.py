"""Detectors over rates of use: a DP budget burning faster than planned, guard leak rates rising."""

from __future__ import annotations

from collections import defaultdict, deque
from datetime import datetime, timedelta

from veil.monitor.baseline import LogVolume, Proportion, Settings
from veil.monitor.detectors import Detector, Window, _score
from veil.monitor.events import Alert, Event

DAY = timedelta(days=1)


class DpBurn(Detector):
    """Epsilon spent on a dataset in the last 24 hours, against the plan (budget / ``dp_plan_days``) or, with no
    plan, against the dataset's usual daily spending."""

    kind = "dp-burn"

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.budget: dict[str, float] = {}
        self.spends: defaultdict[str, deque[tuple[datetime, float]]] = defaultdict(deque)
        self.days = Window()
        self.daily: defaultdict[str, LogVolume] = defaultdict(LogVolume)
        self.spent: defaultdict[str, float] = defaultdict(float)
        # alerted and still above the limit: the 24-hour spending it alerted at. One alert per burn, not one per
        # day; another when the spending has grown by a whole limit again.
        self.burning: dict[str, float] = {}

    def observe(self, e: Event, warm: bool) -> list[Alert]:
        if e.action == "dp-budget" and e.result == "ok":
            self.budget[e.scope] = e.number("epsilon")
            return []
        if e.action != "dp-release" or e.result != "ok":
            return []
        eps = e.number("epsilon")
        self.spent[e.scope] += eps
        recent = self.spends[e.scope]
        recent.append((e.at, eps))
        while e.at - recent[0][0] > DAY:
            recent.popleft()
        last_day = sum(v for _, v in recent)
        closed, _, _ = self.days.add(e.scope, e.day, eps)
        if closed is not None and not closed[3]:
            self.daily[e.scope].learn(closed[1])
        if not warm:
            return []
        found = self._limit(e.scope)
        if found is None:
            return []
        limit, expected = found
        self.score = last_day / max(limit, 1e-9)
        if last_day <= limit:
            self.burning.pop(e.scope, None)
            return []
        if last_day <= self.burning.get(e.scope, 0.0) + limit:
            return []
        self.burning[e.scope] = last_day
        self.days.flag(e.scope)
        budget = self.budget.get(e.scope)
        left = f" ({max(budget - self.spent[e.scope], 0):.3g} of {budget:g} left)" if budget else ""
        return self.alert(e, e.scope, e.at.strftime("%Y-%m-%dT%H:%M"), "epsilon spent in 24 hours", expected,
                          f"{last_day:.3g} in 24 hours",
                          f"dataset '{e.scope}' is spending its privacy budget fast{left}")  # fmt: skip


    def _limit(self, scope: str) -> tuple[float, str] | None:
        """The 24-hour spending above which the dataset burns too fast, and what it is based on."""
        plan, budget = self.s.dp_plan_days, self.budget.get(scope)
        if plan and budget:
            allowed = budget / plan
            return 3 * allowed, f"the plan allows {allowed:.3g} per day (budget {budget:g} over {plan:g} days)"
        base = self.daily[scope]
        if base.windows < 5:
            return None
        limit = base.limit(self.s.z)
        return limit, f"typically {base.typical():.3g} per day, anomalous above {limit:.3g}"


class LeakRate(Detector):
    """The share of guard calls whose answer held personal data the prompt did not, per scope, this hour against
    the scope's history (binomial tail)."""

    kind = "leak-rate"

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.base: defaultdict[str, Proportion] = defaultdict(Proportion)
        self.calls: dict[str, tuple[str, int, int, bool]] = {}

    def observe(self, e: Event, warm: bool) -> list[Alert]:
        if e.action != "guard.request":
            return []
        leaks = e.details.get("leaks")
        hit = isinstance(leaks, dict) and any(isinstance(v, int) and v > 0 for v in leaks.values())
        key = e.scope or e.actor
        hour, n, k, alerted = self.calls.get(key, (e.hour, 0, 0, False))
        base = self.base[key]
        if hour != e.hour:
            if not alerted and n:
                base.mean.update(k / n, n)
            hour, n, k, alerted = e.hour, 0, 0, False
        n, k = n + 1, k + int(hit)
        self.calls[key] = (hour, n, k, alerted)
        if not warm or alerted or k < 3 or base.mean.n < 200:
            return []
        tail = base.tail(k, n)
        self.score = _score(tail)
        if tail >= self.s.sensitivity:
            return []
        self.calls[key] = (hour, n, k, True)
        return self.alert(e, key, e.hour, "answers with leaked personal data", f"{base.p:.2%} of calls",
                          f"{k} of {n} calls this hour ({k / n:.1%})",
                          f"the guard is masking leaks in scope '{key}' far more often than usual", "high")  # fmt: skip

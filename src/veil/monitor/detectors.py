"""The detectors: each reads the events it is about and raises an alert saying which feature, baseline, observed.

Baselines are learned per principal (volumes, purposes, hours, exports), per dataset (DP spending) and per scope
(guard leaks); a window that raised an alert is kept out of its baseline, so an attack does not become normal.
``score`` is each detector's latest anomaly score, -log10 of the tail probability it computed (a Prometheus gauge).
"""

from __future__ import annotations

import math
from collections import defaultdict, deque
from datetime import datetime, timedelta

from veil.monitor.baseline import HourProfile, LogVolume, Rate, Settings
from veil.monitor.events import EXPORTS, KEY_OPS, Alert, Event

SYSTEM_ACTORS = frozenset({"unknown", "bootstrap"})


def _score(tail: float) -> float:
    return -math.log10(max(tail, 1e-300))


class Detector:
    kind = ""

    def __init__(self, settings: Settings) -> None:
        self.s = settings
        self.score = 0.0

    def observe(self, e: Event, warm: bool) -> list[Alert]:
        raise NotImplementedError

    def accept(self, kind: str, key: str, window: str) -> None:
        """A person acknowledged this alert: what it flagged is normal for ``key`` from now on (default: nothing
        to learn, the alerted window is over)."""

    def alert(self, e: Event, key: str, window: str, feature: str, baseline: str, observed: str, why: str,
              severity: str = "warning") -> list[Alert]:  # fmt: skip
        return [Alert(self.kind, key, window, e.at, e.id, feature, baseline, observed, why, severity)]


class Window:
    """A running total per key for the current window; closed windows feed the baseline unless they alerted."""

    def __init__(self) -> None:
        self.open: dict[str, tuple[str, float, int, bool]] = {}

    def add(self, key: str, window: str, value: float) -> tuple[tuple[str, float, int, bool] | None, float, int]:
        """(the window this closed, if any), the running total and count of ``window``."""
        cur = self.open.get(key)
        closed = None
        if cur is None or cur[0] != window:
            closed, cur = cur, (window, 0.0, 0, False)
        cur = (window, cur[1] + value, cur[2] + 1, cur[3])
        self.open[key] = cur
        return closed, cur[1], cur[2]

    def flag(self, key: str) -> bool:
        """Mark the key's window as alerted; False if it already was (one alert per window)."""
        window, total, count, alerted = self.open[key]
        self.open[key] = (window, total, count, True)
        return not alerted


class Suspects:
    """Alerted firsts (a purpose, an export...) not yet acknowledged, per principal, with the days they alerted on:
    one alert a day while they recur, until a person acknowledges one."""

    def __init__(self) -> None:
        self.days: defaultdict[str, dict[str, set[str]]] = defaultdict(dict)

    def flag(self, actor: str, item: str, day: str) -> str | None:
        """"first" or "again" when ``item`` should alert on ``day``; None when it already did that day."""
        days = self.days[actor].setdefault(item, set())
        if day in days:
            return None
        state = "again" if days else "first"
        days.add(day)
        return state

    def clear(self, actor: str, item: str) -> set[str]:
        """Acknowledged: no longer suspect; the days it alerted on."""
        return self.days[actor].pop(item, set())


class BulkDetokenize(Detector):
    """Values detokenized by a principal in an hour, against that principal's usual hours (log-Gaussian)."""

    kind = "bulk-detokenize"

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.base: defaultdict[str, LogVolume] = defaultdict(LogVolume)
        self.win = Window()

    def observe(self, e: Event, warm: bool) -> list[Alert]:
        if e.action != "detokenize" or e.result != "ok":
            return []
        closed, total, calls = self.win.add(e.actor, e.hour, e.number("requested"))
        base = self.base[e.actor]
        if closed is not None and not closed[3]:
            base.learn(closed[1])
        if not warm or base.windows < self.s.min_windows:
            return []
        limit = base.limit(self.s.z)
        self.score = max(0.0, (math.log1p(total) - base.fit.mu) / max(float(base.fit.sigma or 0), 0.25))
        if total <= limit or not self.win.flag(e.actor):
            return []
        return self.alert(e, e.actor, e.hour, "values detokenized per hour", f"typically {base.typical():.0f}, "
                          f"anomalous above {limit:.0f} ({base.windows} active hours learned)",
                          f"{total:.0f} in {calls} call(s) this hour",
                          f"{e.actor} detokenized {total:.0f} values this hour, {total / max(base.typical(), 1):.0f}x "
                          "their usual volume", "high")  # fmt: skip


class NewUse(Detector):
    """A purpose or scope a principal has never used before, once the principal has a history. A use that raised
    an alert stays suspect (not learned) until a person acknowledges the alert: it alerts again on each later day it
    recurs, so an attack that went unnoticed once does not become normal by repetition."""

    kind = "new-use"

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.seen: defaultdict[str, set[str]] = defaultdict(set)
        self.suspect = Suspects()
        self.since: dict[str, tuple[datetime, int]] = {}

    def observe(self, e: Event, warm: bool) -> list[Alert]:
        if e.result != "ok" or e.actor in SYSTEM_ACTORS:
            return []
        first, count = self.since.get(e.actor, (e.at, 0))
        self.since[e.actor] = (first, count + 1)
        uses = [f"purpose:{e.purpose}"] if e.purpose else []
        if e.action == "detokenize" and e.scope:
            uses.append(f"scope:{e.scope}")
        known = self.seen[e.actor]
        judging = warm and e.at - first >= self.s.warmup and count >= 20
        out: list[Alert] = []
        for use in (u for u in uses if u not in known):
            if not judging:
                known.add(use)  # still learning what this principal does
                continue
            state = self.suspect.flag(e.actor, use, e.day)
            if state is None:
                continue
            again, (kind, name) = state == "again", use.split(":", 1)
            before = len([k for k in known if k.startswith(kind)])
            why = (f"{e.actor} used {kind} '{name}' again ({e.action}); its first use is not acknowledged" if again
                   else f"{e.actor} used {kind} '{name}' for the first time ({e.action})")  # fmt: skip
            out += self.alert(e, e.actor, f"{use}@{e.day}" if again else use, kind,
                              f"{before} {kind}(s) used before", name, why)  # fmt: skip
        self.score = 1.0 if out else 0.0
        return out

    def accept(self, kind: str, key: str, window: str) -> None:
        if kind == self.kind:
            use = window.split("@", 1)[0]
            self.suspect.clear(key, use)
            self.seen[key].add(use)


class UnusualHour(Detector):
    """Activity in an hour of the day (a 3-hour band) that makes up under 1 % of the principal's actions and
    happened on under 5 % of the days they were active. The rest
    of an alerted day is held back from the profile; acknowledging the alert teaches it those hours."""

    kind = "unusual-hour"

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.profile: defaultdict[str, HourProfile] = defaultdict(HourProfile)
        self.held: dict[tuple[str, str], list[datetime]] = {}  # alerted (principal, day) -> its activity

    def observe(self, e: Event, warm: bool) -> list[Alert]:
        if e.actor in SYSTEM_ACTORS or e.action.startswith("monitor."):
            return []
        prof = self.profile[e.actor]
        share = prof.band_share(e.at.hour)
        grown = prof.first is not None and e.at - prof.first >= self.s.warmup and prof.total >= 100
        self.score = _score(share) if grown else 0.0
        held = self.held.get((e.actor, e.day))
        if held is not None:
            held.append(e.at)  # the rest of an alerted day does not teach the profile that this hour is normal
            return []
        if not (warm and grown and share < 0.01 and prof.band_days(e.at.hour) < 0.05):
            prof.learn(e.at)
            return []
        self.held[(e.actor, e.day)] = [e.at]
        return self.alert(e, e.actor, e.day, "hour of day", f"{share:.2%} of {prof.total} actions and "
                          f"{prof.band_days(e.at.hour):.0%} of {len(prof.active)} active days around "
                          f"{e.at.hour:02d}:00 UTC", f"{e.action} at {e.at:%H:%M} UTC",
                          f"{e.actor} acted at an hour they are almost never active")  # fmt: skip

    def accept(self, kind: str, key: str, window: str) -> None:
        if kind == self.kind:
            for at in self.held.pop((key, window), []):
                self.profile[key].learn(at)


class RefusalBurst(Detector):
    """Refused calls (wrong key, wrong or replayed TOTP, missing permission) bunched in 10 minutes."""

    kind = "refusal-burst"
    span = timedelta(minutes=10)

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.recent: defaultdict[str, deque[datetime]] = defaultdict(deque)
        self.history: dict[str, tuple[datetime, int]] = {}
        self.flagged: set[tuple[str, str]] = set()

    def observe(self, e: Event, warm: bool) -> list[Alert]:
        if e.result != "denied":
            return []
        times = self.recent[e.actor]
        times.append(e.at)
        while times and e.at - times[0] > self.span:
            times.popleft()
        first, total = self.history.get(e.actor, (e.at, 0))
        self.history[e.actor] = (first, total + 1)
        slots = max((e.at - first) / self.span, 1.0)
        rate = Rate()
        rate.learn(max(total + 1 - len(times), 0) / slots)
        tail = rate.tail(len(times))
        self.score = _score(tail)
        if len(times) < self.s.refusal_burst or tail >= self.s.sensitivity or (e.actor, e.hour) in self.flagged:
            return []
        self.flagged.add((e.actor, e.hour))
        reason = str(e.details.get("reason", e.action))[:80]
        return self.alert(e, e.actor, e.hour, "refusals per 10 minutes", f"{rate.mean.get():.2f} per 10 minutes",
                          f"{len(times)} in 10 minutes (last: {reason})",
                          f"a burst of refused calls as '{e.actor}': guessing keys or codes?", "high")  # fmt: skip


class PrivilegedUse(Detector):
    """Exports and key operations: a principal's first of an action, or more in a day than their history makes
    plausible. A first that raised an alert stays suspect until acknowledged (alerting again on a later day), and
    alerted days stay out of the principal's daily rate."""

    kind = "privileged"

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.done: defaultdict[str, set[str]] = defaultdict(set)
        self.suspect = Suspects()
        self.daily: defaultdict[tuple[str, str], dict[str, int]] = defaultdict(dict)  # (actor, kind) -> day -> n
        self.alerted: set[tuple[str, str, str]] = set()  # (actor, kind, day) kept out of the rate
        self.first: dict[tuple[str, str], datetime] = {}

    def observe(self, e: Event, warm: bool) -> list[Alert]:
        kind = "export" if e.action in EXPORTS else "key-operation" if e.action in KEY_OPS else ""
        if not kind or e.result != "ok":
            return []
        days = self.daily[(e.actor, kind)]
        today = days[e.day] = days.get(e.day, 0) + 1
        first = self.first.setdefault((e.actor, kind), e.at)
        if e.action not in self.done[e.actor]:
            if not warm:
                self.done[e.actor].add(e.action)
                return []
            return self._first(e, kind)
        past = sum(n for d, n in days.items() if d != e.day and (e.actor, kind, d) not in self.alerted)
        rate = Rate()
        rate.learn(past / max((e.at - first).days, 1))
        tail = rate.tail(today)
        self.score = _score(tail)
        if not warm or today < 3 or tail >= self.s.sensitivity or (e.actor, kind, e.day) in self.alerted:
            return []
        self.alerted.add((e.actor, kind, e.day))
        return self.alert(e, e.actor, f"{kind}@{e.day}", f"{kind}s per day", f"{float(rate.mean.get()):.2f} per day",
                          f"{today} today", f"{e.actor} ran {today} {kind}s today")  # fmt: skip

    def _first(self, e: Event, kind: str) -> list[Alert]:
        self.score = 1.0
        state = self.suspect.flag(e.actor, e.action, e.day)
        if state is None:
            return []
        again = state == "again"
        self.alerted.add((e.actor, kind, e.day))
        why = (f"{e.actor} ran {e.action} again; its first run is not acknowledged" if again
               else f"{e.actor} ran {e.action} for the first time")  # fmt: skip
        return self.alert(e, e.actor, f"{e.action}@{e.day}" if again else e.action, kind,
                          f"{e.actor} never ran {e.action}", e.action, why, "high")  # fmt: skip

    def accept(self, kind: str, key: str, window: str) -> None:
        if kind != self.kind:
            return
        head, _, day = window.partition("@")
        if head in EXPORTS | KEY_OPS:  # a first (or its repeat): the action is this principal's from now on
            self.done[key].add(head)
            what = "export" if head in EXPORTS else "key-operation"
            for alerted in self.suspect.clear(key, head):
                self.alerted.discard((key, what, alerted))
        if head in ("export", "key-operation") and day:  # a busy day: its count is normal after all
            self.alerted.discard((key, head, day))

"""Each detector against a baseline it learned: it flags the anomaly once, says why, and stays quiet otherwise."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from veil.monitor.baseline import Settings
from veil.monitor.detectors import BulkDetokenize, NewUse, PrivilegedUse, RefusalBurst, UnusualHour
from veil.monitor.events import Alert, Event
from veil.monitor.spending import DpBurn, LeakRate

T0 = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday
S = Settings(warmup=timedelta(days=2))


class Feed:
    """Events in time order, numbered as the audit log would."""

    def __init__(self) -> None:
        self.n = 0

    def event(self, at: datetime, actor: str, action: str, result: str = "ok", scope: str = "",
              purpose: str = "", **details: Any) -> Event:  # fmt: skip
        self.n += 1
        return Event(self.n, at, actor, action, result, scope, purpose, details)

    def record(self, e: Event) -> dict[str, Any]:
        return {"at": e.at.isoformat(), "actor": e.actor, "action": e.action, "result": e.result, "scope": e.scope,
                "subject": "", "purpose": e.purpose, "details": json.dumps(e.details)}  # fmt: skip


def office_hours(feed: Feed, actor: str, days: int, per_hour: int = 3, size: int = 10,
                 purpose: str = "support") -> list[Event]:  # fmt: skip
    """A 9-to-5 worker's detokenizations on weekdays."""
    out = []
    for d in range(days):
        day = T0 + timedelta(days=d)
        if day.weekday() >= 5:
            continue
        for h in range(9, 17):
            for k in range(per_hour):
                at = day + timedelta(hours=h, minutes=5 + 15 * k)
                out.append(feed.event(at, actor, "detokenize", scope="default", purpose=purpose, requested=size + k))
    return out


def run(detector: Any, events: list[Event], first: datetime = T0) -> list[Alert]:
    return [a for e in events for a in detector.observe(e, e.at - first >= S.warmup)]


def test_bulk_detokenization_is_flagged_once_and_not_learned() -> None:
    feed = Feed()
    normal = office_hours(feed, "ana", 7)
    det = BulkDetokenize(S)
    assert run(det, normal) == []
    limit = det.base["ana"].limit(S.z)
    spike_at = T0 + timedelta(days=8, hours=10)
    spike = [feed.event(spike_at + timedelta(minutes=i), "ana", "detokenize", scope="default", requested=400)
             for i in range(5)]  # fmt: skip
    found = run(det, spike)
    assert len(found) == 1 and found[0].kind == "bulk-detokenize" and found[0].severity == "high"
    assert found[0].why.startswith("ana detokenized 400 values this hour") and "1 call(s)" in found[0].observed
    after = [feed.event(T0 + timedelta(days=9, hours=11, minutes=m), "ana", "detokenize", requested=11)
             for m in (1, 20)]  # fmt: skip
    assert run(det, after) == []
    assert det.base["ana"].limit(S.z) == limit  # the spike hour stayed out of the baseline


def test_a_new_purpose_or_scope_is_flagged_after_warm_up_only() -> None:
    feed = Feed()
    det = NewUse(S)
    early = [feed.event(T0 + timedelta(hours=1), "ben", "detokenize", scope="default", purpose="billing")]
    assert run(det, early + office_hours(feed, "ben", 4)) == []  # billing was new in the warm-up: learned
    later = T0 + timedelta(days=5, hours=10)
    found = run(det, [feed.event(later, "ben", "detokenize", scope="eu", purpose="marketing"),
                      feed.event(later + timedelta(minutes=1), "ben", "detokenize", scope="eu", purpose="marketing")])
    assert sorted(a.window for a in found) == ["purpose:marketing", "scope:eu"]
    assert all("for the first time" in a.why for a in found)
    # unacknowledged, the use is not learned: it alerts again the next day it recurs (once that day)
    next_day = [feed.event(later + timedelta(days=1, minutes=m), "ben", "detokenize", purpose="marketing")
                for m in (0, 5)]  # fmt: skip
    again = run(det, next_day)
    assert [a.window for a in again] == [f"purpose:marketing@{next_day[0].day}"] and "not acknowledged" in again[0].why
    det.accept("new-use", "ben", again[0].window)  # a person said it is fine: learned from now on
    assert run(det, [feed.event(later + timedelta(days=2), "ben", "detokenize", purpose="marketing")]) == []
    assert run(det, [feed.event(later + timedelta(days=2), "ben", "detokenize", scope="eu")])  # still suspect


def test_activity_at_an_unusual_hour_is_flagged_once_per_day() -> None:
    feed = Feed()
    det = UnusualHour(S)
    assert run(det, office_hours(feed, "cy", 8)) == []
    night = T0 + timedelta(days=9, hours=3)
    found = run(det, [feed.event(night + timedelta(minutes=m), "cy", "detokenize") for m in range(5)])
    assert len(found) == 1 and "03:00" in found[0].baseline
    late = T0 + timedelta(days=10, hours=17, minutes=20)  # just after the shift: near usual hours
    assert run(det, [feed.event(late, "cy", "detokenize")]) == []
    det.accept("unusual-hour", "cy", found[0].window)  # acknowledged: that night's actions are learned
    assert det.profile["cy"].band_days(3) > 0 and not det.held


def test_regular_overtime_is_not_an_unusual_hour_once_acknowledged() -> None:
    feed = Feed()
    det = UnusualHour(S)
    normal = office_hours(feed, "di", 12)  # 9:00-17:00 on weekdays
    late = [feed.event(T0 + timedelta(days=d, hours=18, minutes=30), "di", "detokenize") for d in (8, 10)]
    events = sorted([*normal, *late], key=lambda e: e.at)
    first = run(det, [e for e in events if e.at <= late[0].at])
    assert [a.window for a in first] == [late[0].day]  # the first evening: rare in actions and in days
    det.accept("unusual-hour", "di", first[0].window)
    assert run(det, [e for e in events if e.at > late[0].at]) == []  # an evening on 1 day in 8: not unusual
    assert det.profile["di"].band_share(18) < 0.01 < 0.05 < det.profile["di"].band_days(18)
    unacked = UnusualHour(S)  # never acknowledged: every evening is held back, and flagged
    assert len(run(unacked, events)) == len(late)


    services = Feed()
    svc = [services.event(T0 + timedelta(minutes=30 * i), "svc", "detokenize") for i in range(48 * 5)]
    assert run(UnusualHour(S), svc) == []  # around the clock: no hour is unusual


def test_a_burst_of_refusals_is_flagged_and_stray_ones_are_not() -> None:
    feed = Feed()
    det = RefusalBurst(S)
    stray = [feed.event(T0 + timedelta(hours=5 * i), "unknown", "authenticate", "denied", reason="bad API key")
             for i in range(30)]  # fmt: skip
    assert run(det, stray) == []
    burst_at = T0 + timedelta(days=7)
    burst = [feed.event(burst_at + timedelta(seconds=10 * i), "dan", "authenticate", "denied",
                        reason="wrong TOTP code") for i in range(15)]  # fmt: skip
    found = run(det, burst)
    assert len(found) == 1 and found[0].key == "dan" and "wrong TOTP code" in found[0].observed


def test_first_exports_and_key_operations_are_flagged_after_warm_up() -> None:
    feed = Feed()
    det = PrivilegedUse(S)
    warm = [feed.event(T0 + timedelta(hours=10), "admin", "keys.rotate"),
            feed.event(T0 + timedelta(days=1, hours=9), "auditor", "audit.export")]  # fmt: skip
    assert run(det, warm) == []
    later = T0 + timedelta(days=9, hours=10)
    assert run(det, [feed.event(later, "admin", "keys.rotate"), feed.event(later, "auditor", "audit.export")]) == []
    found = run(det, [feed.event(later, "eve", "audit.export"), feed.event(later, "eve", "shred")])
    assert [a.window for a in found] == ["audit.export", "shred"] and {a.severity for a in found} == {"high"}
    assert run(det, [feed.event(later + timedelta(hours=1), "eve", "audit.export")]) == []  # one alert a day
    tomorrow = later + timedelta(days=1)
    again = run(det, [feed.event(tomorrow, "eve", "audit.export"), feed.event(tomorrow, "eve", "shred")])
    assert [a.window for a in again] == [f"audit.export@{tomorrow:%Y-%m-%d}", f"shred@{tomorrow:%Y-%m-%d}"]
    det.accept("privileged", "eve", "audit.export")
    assert run(det, [feed.event(tomorrow + timedelta(days=1), "eve", "audit.export")]) == []
    assert run(det, [feed.event(tomorrow + timedelta(days=1), "eve", "shred")])  # not acknowledged


def test_a_busy_export_day_is_flagged_and_kept_out_of_the_rate_until_acknowledged() -> None:
    feed = Feed()
    det = PrivilegedUse(S)
    weekly = [feed.event(T0 + timedelta(days=7 * w, hours=9), "aud", "audit.export") for w in range(4)]
    assert run(det, weekly) == []
    busy = T0 + timedelta(days=29, hours=10)
    found = run(det, [feed.event(busy + timedelta(minutes=m), "aud", "audit.export") for m in range(6)])
    assert [a.window for a in found] == [f"export@{busy:%Y-%m-%d}"] and found[0].observed == "4 today"
    assert ("aud", "export", f"{busy:%Y-%m-%d}") in det.alerted
    det.accept("privileged", "aud", found[0].window)
    assert not det.alerted


def test_a_budget_burning_faster_than_planned_is_flagged_once_per_limit_it_grows() -> None:
    feed = Feed()
    det = DpBurn(Settings(warmup=timedelta(days=2), dp_plan_days=30))
    events = [feed.event(T0, "admin", "dp-budget", scope="census", epsilon=3.0)]
    events += [feed.event(T0 + timedelta(days=d, hours=12), "ana", "dp-release", scope="census", epsilon=0.05)
               for d in range(10)]  # fmt: skip
    assert run(det, events) == []
    burn = T0 + timedelta(days=11, hours=9)
    found = run(det, [feed.event(burn + timedelta(minutes=10 * i), "ana", "dp-release", scope="census", epsilon=0.1)
                      for i in range(8)])  # fmt: skip
    assert "0.1 per day" in found[0].baseline and "of 3 left" in found[0].why
    # limit 0.3 a day: alerted past 0.3, then again only once it grew by another 0.3 (not at every release)
    assert [a.observed for a in found] == ["0.4 in 24 hours", "0.8 in 24 hours"]


def test_a_rising_leak_rate_is_flagged_against_the_scopes_history() -> None:
    feed = Feed()
    det = LeakRate(S)

    def hour(start: datetime, leaky: int) -> list[Event]:
        return [feed.event(start + timedelta(seconds=30 * i), "app", "guard.request", scope="web",
                           leaks={"EMAIL_ADDRESS": 1} if i < leaky else {}) for i in range(100)]  # fmt: skip

    normal = [e for h in range(72) for e in hour(T0 + timedelta(hours=h), 1)]
    assert run(det, normal) == []
    found = run(det, hour(T0 + timedelta(days=3, hours=1), 20))
    assert len(found) == 1 and found[0].key == "web" and "1.00% of calls" in found[0].baseline

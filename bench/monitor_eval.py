"""The monitor on a synthetic month of audit traffic with labelled anomalies injected: precision, recall and
time to alert per kind, and false alerts per day on the same month without injections.

Traffic (seeded): 12 analysts on their own 8-hour weekday shifts (some overtime, purposes of their own, the odd
wrong TOTP code), 3 services detokenizing around the clock, 2 admins (weekly key rotation, occasional roles and
principals), an auditor's weekly export and a DPO's access bundles, two guarded apps (60 calls an hour by day,
about 1-2 % of answers with a leak masked), two DP datasets with budgets planned over 30 days, and stray bad API
keys. Injected from day 6 on, 4 of each: bulk detokenization (about 80x an analyst's hour), a purpose the analyst
never used, activity at 2-4 am, refusal bursts (bad keys, TOTP guessing), first exports by analysts, key operations
by analysts, a DP budget burnt in 3 hours, a guard leak rate rising to 25 % for 3 hours. All of it goes through a
real SQLite vault's audit log (HMAC chain) and the monitor reads it back as `veil monitor` does.

    python bench/monitor_eval.py [--seed 7] [--days 30]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

START = datetime(2026, 6, 1, tzinfo=UTC)  # a Monday
KINDS = {"bulk": "bulk-detokenize", "purpose": "new-use", "night": "unusual-hour", "refusals": "refusal-burst",
         "export": "privileged", "keyop": "privileged", "dp": "dp-burn", "leaks": "leak-rate"}  # fmt: skip
PURPOSES = ["support", "billing", "fraud-review", "analytics"]


@dataclass
class Injection:
    name: str
    key: str
    start: datetime
    end: datetime


class Traffic:
    def __init__(self, seed: int, days: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.days = days
        self.rows: list[tuple[datetime, bool, dict[str, Any]]] = []
        self.injecting = False
        self.analysts = {f"analyst{i:02d}": (int(self.rng.integers(6, 13)), list(self.rng.choice(PURPOSES, 2,
                         replace=False))) for i in range(1, 13)}  # fmt: skip

    def add(self, at: datetime, actor: str, action: str, result: str = "ok", scope: str = "", purpose: str = "",
            **details: Any) -> None:  # fmt: skip
        record = {"actor": actor, "action": action, "result": result, "scope": scope, "subject": "",
                  "purpose": purpose, "details": json.dumps(details, sort_keys=True)}  # fmt: skip
        self.rows.append((at, self.injecting, record))

    def minute(self, hour: datetime) -> datetime:
        return hour + timedelta(seconds=float(self.rng.uniform(0, 3600)))

    def detok(self, at: datetime, actor: str, purpose: str, size: float, scope: str = "default") -> None:
        n = int(max(1, round(float(self.rng.lognormal(np.log(size), 0.8)))))
        self.add(at, actor, "detokenize", scope=scope, purpose=purpose, requested=n, restored=n)

    def normal(self) -> None:
        r = self.rng
        for h in range(self.days * 24):
            hour = START + timedelta(hours=h)
            weekday, clock = hour.weekday() < 5, hour.hour
            for name, (shift, purposes) in self.analysts.items():
                on = weekday and shift <= clock < shift + 8
                late = weekday and shift + 8 <= clock < shift + 10 and r.random() < 0.08
                for _ in range(int(r.poisson(4 if on else 1.5 if late else 0))):
                    self.detok(self.minute(hour), name, str(r.choice(purposes)), 15)
                if on and r.random() < 0.02:
                    self.add(self.minute(hour), name, "authenticate", "denied", reason="wrong TOTP code")
            for svc, purpose in (("svc-etl", "analytics"), ("svc-chat", "support"), ("svc-fraud", "fraud-review")):
                for _ in range(int(r.poisson(20))):
                    self.detok(self.minute(hour), svc, purpose, 50)
            for app, leak in (("web", 0.01), ("mobile", 0.02)):
                for _ in range(int(r.poisson(60 if 7 <= clock < 22 else 15))):
                    self.guard(self.minute(hour), app, leak)
            if r.random() < 1 / 24:
                self.add(self.minute(hour), "unknown", "authenticate", "denied", reason="bad API key")
            self.office(hour, weekday, clock)

    def guard(self, at: datetime, app: str, leak: float) -> None:
        leaks = {"EMAIL_ADDRESS": 1} if self.rng.random() < leak else {}
        self.add(at, f"app-{app}", "guard.request", scope=app, found={"PERSON": 1}, leaks=leaks, foreign_tokens=0)

    def office(self, hour: datetime, weekday: bool, clock: int) -> None:
        r = self.rng
        day = (hour - START).days
        if clock == 10 and day % 7 == 2:
            self.add(self.minute(hour), "admin1", "keys.rotate", keys=40)
        if weekday and 9 <= clock < 17 and r.random() < 0.1 / 8:
            self.add(self.minute(hour), str(r.choice(["admin1", "admin2"])), "principal.create", principal="p")
        if weekday and clock == 9 and hour.weekday() == 0:
            self.add(self.minute(hour), "auditor", "audit.export")
        if weekday and 9 <= clock < 17 and r.random() < 0.5 / 8:
            self.add(self.minute(hour), "dpo", "dsar.bundle.download", request="r")
        if h0 := (hour == START):
            for ds, eps in (("census", 10.0), ("sales", 12.0)):
                self.add(hour, "admin1", "dp-budget", scope=ds, epsilon=eps)
        if weekday and 9 <= clock < 17 and not h0:
            for ds in ("census", "sales"):
                for _ in range(int(r.poisson(3 / 8 * 7 / 5))):
                    self.add(self.minute(hour), "analyst01", "dp-release", scope=ds, purpose="analytics",
                             epsilon=round(float(r.uniform(0.02, 0.12)), 4))  # fmt: skip

    def inject(self) -> list[Injection]:
        r, out = self.rng, []
        names = list(self.analysts)
        self.injecting = True
        for kind in KINDS:
            for _ in range(4):
                day = int(r.integers(6, self.days - 1))
                who = str(r.choice(names))
                shift = self.analysts[who][0]
                at = START + timedelta(days=day, hours=shift + 2, minutes=float(r.uniform(0, 60)))
                out.append(self._one(kind, who, at, day))
        return out

    def _one(self, kind: str, who: str, at: datetime, day: int) -> Injection:
        r, m = self.rng, timedelta(minutes=1)
        if kind == "bulk":
            for i in range(25):
                self.add(at + i * m, who, "detokenize", scope="default", purpose=self.analysts[who][1][0],
                         requested=200, restored=200)  # fmt: skip
            return Injection(kind, who, at, at + 25 * m)
        if kind == "purpose":
            for i in range(3):
                self.detok(at + i * m, who, "marketing", 15)
            return Injection(kind, who, at, at + 3 * m)
        if kind == "night":
            at = START + timedelta(days=day, hours=int(r.integers(2, 4)), minutes=float(r.uniform(0, 50)))
            for i in range(5):
                self.detok(at + i * m, who, self.analysts[who][1][0], 15)
            return Injection(kind, who, at, at + 5 * m)
        if kind == "refusals":
            actor = "unknown" if r.random() < 0.5 else who
            reason = "bad API key" if actor == "unknown" else "wrong TOTP code"
            for i in range(30):
                self.add(at + i * timedelta(seconds=8), actor, "authenticate", "denied", reason=reason)
            return Injection(kind, actor, at, at + 4 * m)
        if kind in ("export", "keyop"):
            action = "dsar.bundle.download" if kind == "export" else "shred"
            first = "audit.export" if kind == "export" else "keys.rotate"
            self.add(at, who, first)
            for i in range(1, 5):
                self.add(at + i * m, who, action)
            return Injection(kind, who, at, at + 5 * m)
        if kind == "dp":
            ds = str(r.choice(["census", "sales"]))
            for i in range(25):
                self.add(at + i * 7 * m, who, "dp-release", scope=ds, purpose="analytics", epsilon=0.1)
            return Injection(kind, ds, at, at + 175 * m)
        app = str(r.choice(["web", "mobile"]))
        for i in range(180):
            self.guard(at + i * m, app, 0.25)
        return Injection(kind, app, at, at + 180 * m)


def _is_true(record: int, key: str, at: datetime, injected: list[Injection], planted: set[int]) -> bool:
    """An alert is true when an injected record tipped it or it is about an injection's key at its time."""
    return record in planted or any(
        key == inj.key and inj.start <= at <= inj.end + timedelta(hours=1) for inj in injected
    )


def _monitor(rows: list[tuple[datetime, bool, dict[str, Any]]], injected: list[Injection],
             operator: bool) -> tuple[list[Any], float, set[int]]:  # fmt: skip
    """The month written day by day to a real vault's audit log and read by the monitor after each day, as
    ``veil monitor --follow`` would. With ``operator``, someone reviews the open alerts at 08:30 every day and
    acknowledges the false ones (``veil alerts ack``: the monitor learns them); true ones stay open (incidents).
    Returns the alerts, the monitor's seconds, and the audit ids of the injected records."""
    from veil.monitor.engine import Monitor, settings_of
    from veil.monitor.store import AlertStore
    from veil.policy import Policy
    from veil.vault import MasterKey, Vault

    rows.sort(key=lambda r: r[0])  # the audit log's order is time order
    days: dict[Any, list[tuple[datetime, bool, dict[str, Any]]]] = defaultdict(list)
    for row in rows:
        days[row[0].date()].append(row)
    planted: set[int] = set()
    alerts: list[Any] = []
    seconds = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        vault = Vault(f"sqlite:///{tmp}/bench.db", master_key=MasterKey(os.urandom(32), "bench"))
        store = AlertStore(vault.engine)
        settings = settings_of(Policy.model_validate({"monitor": {"dp_plan_days": 30}}))
        monitor = Monitor(vault.audit, settings, store=store)
        for day, today in sorted(days.items()):
            if operator:
                review = datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=8, minutes=30)
                today = sorted([*today, *_review(store, review, injected, planted)], key=lambda r: r[0])
            last = vault.audit.append_many([{**d, "at": at.isoformat(timespec="microseconds")} for at, _, d in today])
            planted.update(last - len(today) + 1 + i for i, row in enumerate(today) if row[1])
            started = time.perf_counter()
            alerts += monitor.run_once()
            seconds += time.perf_counter() - started
    return alerts, seconds, planted


def _review(store: Any, at: datetime, injected: list[Injection], planted: set[int]) -> list[Any]:
    """The operator's acknowledgements of the open false alerts, as audit rows at ``at``."""
    from veil.monitor.store import ack_details
    from veil.vault.audit import entry

    out = []
    for row in store.list():
        if not _is_true(row["record"], row["key"], datetime.fromisoformat(row["at"]), injected, planted):
            store.ack(row["id"], "secops", "legitimate")
            out.append((at, False, entry("secops", "monitor.ack", "ok", "", "", "", ack_details(row))))
    return out


def _score(alerts: list[Any], injected: list[Injection], planted: set[int], days: int) -> dict[str, Any]:
    """Recall per kind (an alert of the expected kind on the injection's key within an hour of its end)."""
    per: dict[str, dict[str, Any]] = defaultdict(lambda: {"n": 0, "hit": 0, "delays": []})
    for inj in injected:
        row = per[inj.name]
        row["n"] += 1
        mine = [a for a in alerts if a.key == inj.key and inj.start <= a.at <= inj.end + timedelta(hours=1)
                and a.kind == KINDS[inj.name]]  # fmt: skip
        if mine:
            row["hit"] += 1
            row["delays"].append(min((a.at - inj.start).total_seconds() / 60 for a in mine))
    false = [a for a in alerts if not _is_true(a.record, a.key, a.at, injected, planted)]
    return {"per": per, "alerts": len(alerts), "false": false, "days": days}


def _print(runs: dict[str, dict[str, Any]]) -> None:
    names = list(runs)
    print("| anomaly | injected | " + " | ".join(f"detected ({n}) | median minutes to alert ({n})" for n in names)
          + " |")  # fmt: skip
    print("|---|---|" + "---|---|" * len(names))
    first = runs[names[0]]["per"]
    for kind in first:
        cells = []
        for n in names:
            row = runs[n]["per"][kind]
            delay = f"{np.median(row['delays']):.1f}" if row["delays"] else "-"
            cells += [f"{row['hit']} ({row['hit'] / row['n']:.2f})", delay]
        print(f"| {kind} ({KINDS[kind]}) | {first[kind]['n']} | " + " | ".join(cells) + " |")
    cells = []
    for n in names:
        total = sum(r["n"] for r in runs[n]["per"].values())
        hits = sum(r["hit"] for r in runs[n]["per"].values())
        cells += [f"{hits} (**{hits / total:.2f}**)", ""]
    print(f"| **all** | {sum(r['n'] for r in first.values())} | " + " | ".join(cells) + " |")
    for n in names:
        r = runs[n]
        good = r["alerts"] - len(r["false"])
        print(f"\n{n}: alerts {r['alerts']}, matching an injection {good}, precision {good / max(r['alerts'], 1):.2f}, "
              f"false alerts {len(r['false'])} ({len(r['false']) / r['days']:.2f} per day)")  # fmt: skip
        _false_kinds(r["false"])


def _false_kinds(false: list[Any]) -> None:
    kinds: dict[str, int] = defaultdict(int)
    for a in false:
        kinds[a.kind] += 1
    if kinds:
        print("false alerts by kind: " + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--days", type=int, default=30)
    args = parser.parse_args()
    modes = {"no one acknowledges": False, "false alerts acknowledged daily": True}
    runs = {}
    for label, operator in modes.items():
        traffic = Traffic(args.seed, args.days)
        traffic.normal()
        injected = traffic.inject()
        alerts, seconds, planted = _monitor(traffic.rows, injected, operator)
        runs[label] = _score(alerts, injected, planted, args.days)
    print(f"\nMonth with injections (seed {args.seed}): {len(traffic.rows):,} audit records, monitor read them in "
          f"{seconds:.1f} s ({len(traffic.rows) / seconds:,.0f} records/s), one read per simulated day\n")  # fmt: skip
    _print(runs)
    print()
    for label, operator in modes.items():
        clean = Traffic(args.seed + 1000, args.days)
        clean.normal()
        alerts, _, _ = _monitor(clean.rows, [], operator)
        print(f"The same month without injections (seed {args.seed + 1000}), {label}: {len(clean.rows):,} records, "
              f"{len(alerts)} alerts, {len(alerts) / args.days:.2f} false alerts per day")  # fmt: skip
        _false_kinds(alerts)
        if operator:
            for a in alerts[:8]:
                print(f"  {a.at:%m-%d %H:%M} {a.kind} {a.key}: {a.why} (baseline {a.baseline}; observed {a.observed})")


if __name__ == "__main__":
    main()

"""Personal data breaches: the register, the 72-hour clock (Art. 33), whether subjects must be told (Art. 34),
draft notifications and a timeline of every step.

A breach names the sources (or ``source.table``) affected; the data map supplies the categories and the number
of subjects at stake, so the first notice can be drafted within minutes of detection. Subjects must be told when
the categories are high risk (special categories, financial, government ids, credentials), unless the operator
records why not (e.g. the data was encrypted with keys that were not taken, Art. 34(3)(a)).
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select, update

from veil.errors import ConfigError, InputError
from veil.governance.inventory import inventory
from veil.governance.render import Document
from veil.governance.subjects import event, now
from veil.governance.taxonomy import is_high_risk
from veil.storage.engine import write_tx
from veil.storage.schema import breaches

if TYPE_CHECKING:
    from veil.governance.runner import Governor

AUTHORITY_HOURS = 72


@dataclass
class Breach:
    id: str
    title: str
    status: str
    detected: str
    authority_due: str
    authority_notified: str | None
    closed: str | None
    facts: dict[str, Any] = field(default_factory=dict)
    timeline: list[dict[str, Any]] = field(default_factory=list)

    @property
    def overdue(self) -> bool:
        late = datetime.fromisoformat(self.authority_due) < datetime.now(UTC)
        return self.status == "open" and self.authority_notified is None and late

    def to_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "overdue": self.overdue}


class Breaches:
    def __init__(self, gov: Governor) -> None:
        self.gov = gov
        self.vault = gov.vault

    def _affected(self, names: list[str]) -> dict[str, Any]:
        sources = self.gov.policy.governance.sources
        wanted: dict[str, set[str] | None] = {}
        for n in names:
            src, _, table = n.partition(".")
            if src not in sources:
                raise ConfigError(f"breach names source '{src}', which governance.sources does not define")
            if table:
                got = wanted.setdefault(src, set())
                if got is not None:
                    got.add(table)
            else:
                wanted[src] = None
        affected: list[dict[str, Any]] = []
        cats: set[str] = set()
        subjects = 0
        for f in inventory(self.gov):
            if f.name not in wanted:
                continue
            tables = wanted[f.name]
            chosen = {t: i for t, i in f.tables.items() if tables is None or t in tables}
            missing = sorted((tables or set()) - set(f.tables))
            if missing and not f.problem:
                raise ConfigError(f"breach names table(s) {', '.join(missing)} that source '{f.name}' does not have")
            for t, info in chosen.items():
                cols = info.get("columns", {})
                cats.update(c for cs in cols.values() for c in cs)
                affected.append({"source": f.name, "table": t, "rows": info.get("rows", 0), "columns": sorted(cols)})
            subjects += max((i.get("identities", 0) for i in chosen.values()), default=0)
        high = sorted(c for c in cats if is_high_risk(c))
        return {
            "affected": affected,
            "categories": sorted(cats),
            "subjects_estimate": subjects,
            "high_risk_categories": high,
            "notify_subjects": bool(high),
        }

    def open(
        self,
        title: str,
        affected: list[str],
        *,
        detected: datetime | None = None,
        description: str = "",
        actor: str = "local",
    ) -> Breach:
        if not title.strip() or len(title) > 300:
            raise ConfigError("a breach needs a title of 1..300 characters")
        if not affected:
            raise ConfigError("name the affected sources (--source NAME or NAME.TABLE, repeatable)")
        when = detected or datetime.now(UTC)
        if when.tzinfo is None:
            raise ConfigError("the detection time needs a time zone (e.g. 2026-12-01T09:30+00:00)")
        facts = {**self._affected(affected), "description": description, "named": affected}
        bid = "brc_" + secrets.token_hex(6)
        first = event("opened", actor, description[:500])
        row = {
            "id": bid,
            "title": title,
            "status": "open",
            "detected": when.isoformat(timespec="seconds"),
            "authority_due": (when + timedelta(hours=AUTHORITY_HOURS)).isoformat(timespec="seconds"),
            "facts": json.dumps(facts, sort_keys=True),
            "timeline": json.dumps([first]),
        }
        with write_tx(self.vault.engine) as conn:
            conn.execute(insert(breaches).values(**row))
        self.vault.audit.append(
            actor,
            "breach.open",
            breach=bid,
            subjects=facts["subjects_estimate"],
            categories=facts["categories"],
            due=row["authority_due"],
        )
        return self.get(bid)

    def get(self, bid: str) -> Breach:
        with self.vault.engine.connect() as conn:
            r = conn.execute(select(breaches).where(breaches.c.id == bid)).first()
        if r is None:
            raise InputError(f"no breach {bid!r}" if len(bid) <= 40 else "no such breach")
        return Breach(
            r.id,
            r.title,
            r.status,
            r.detected,
            r.authority_due,
            r.authority_notified,
            r.closed,
            json.loads(r.facts),
            json.loads(r.timeline),
        )

    def find(self, *, overdue: bool = False) -> list[Breach]:
        with self.vault.engine.connect() as conn:
            ids = [r.id for r in conn.execute(select(breaches.c.id).order_by(breaches.c.detected))]
        found = [self.get(i) for i in ids]
        return [b for b in found if b.overdue] if overdue else found

    def update(
        self,
        bid: str,
        note: str,
        *,
        actor: str = "local",
        authority_notified: bool = False,
        subjects_notified: bool = False,
        no_subject_notice: str = "",
        close: bool = False,
    ) -> Breach:
        b = self.get(bid)
        if b.status == "closed":
            raise ConfigError(f"breach {bid} is closed")
        if not note.strip():
            raise ConfigError("say what happened (--note)")
        facts = dict(b.facts)
        values: dict[str, Any] = {}
        what = "update"
        if authority_notified:
            values["authority_notified"], what = now(), "authority notified"
        if subjects_notified:
            facts["subjects_notified"], what = now(), "subjects notified"
        if no_subject_notice:
            facts["notify_subjects"], facts["no_subject_notice"] = False, no_subject_notice
        if close:
            values["status"], values["closed"], what = "closed", now(), "closed"
        timeline = [*b.timeline, event(what, actor, note[:2000])]
        values.update(facts=json.dumps(facts, sort_keys=True), timeline=json.dumps(timeline))
        with write_tx(self.vault.engine) as conn:
            conn.execute(update(breaches).where(breaches.c.id == bid).values(**values))
        self.vault.audit.append(actor, f"breach.{what.replace(' ', '_')}", breach=bid)
        return self.get(bid)

    def notices(self, bid: str) -> dict[str, Document]:
        """Draft notifications: to the supervisory authority (Art. 33(3)) and, when required, to subjects (Art. 34)."""
        b = self.get(bid)
        f = b.facts
        ctl = self.gov.policy.governance.controller
        contact = self.gov.policy.governance.breach_contact or ctl.dpo or ctl.contact
        auth = Document(f"Notification of a personal data breach — {b.title}")
        auth.section("Controller").kv([("Name", ctl.name), ("Contact point (Art. 33(3)(b))", contact)])
        auth.section("(a) Nature of the breach").kv(
            [
                ("Detected", b.detected),
                ("Description", f.get("description", "")),
                ("Data categories", f["categories"]),
                ("Approximate number of data subjects", f"{f['subjects_estimate']:,}"),
                ("Approximate number of records", f"{sum(a['rows'] for a in f['affected']):,}"),
            ]
        )
        auth.section("Systems affected").table(
            ["source", "table", "rows", "personal columns"],
            [[a["source"], a["table"], f"{a['rows']:,}", a["columns"]] for a in f["affected"]],
        )
        auth.section("(c) Likely consequences").p(
            "High-risk categories: " + (", ".join(f["high_risk_categories"]) or "none")
        )
        auth.section("(d) Measures taken or proposed").items([e["note"] for e in b.timeline if e.get("note")])
        out = {"authority": auth}
        if f.get("notify_subjects"):
            subj = Document(f"Important information about your personal data — {ctl.name}")
            subj.section("What happened").p(f.get("description") or b.title)
            subj.section("Which of your data").items(f["categories"])
            subj.section("What we are doing").items([e["note"] for e in b.timeline if e.get("note")])
            subj.section("Who to contact").p(contact or ctl.name)
            out["subjects"] = subj
        return out

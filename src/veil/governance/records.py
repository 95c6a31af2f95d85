"""The record of processing activities (GDPR Art. 30(1)) from the policy, the data map and the vault.

One activity per purpose: (a) controller, (b) purpose, (c) categories of subjects and of personal data, (d)
recipients, (e) transfers, (f) retention, (g) security measures. Categories are both what the policy declares
and what the data map finds in the columns the purpose processes; a category found but declared by no purpose is
listed as a gap, because that is what a regulator would ask about first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from veil.governance.inventory import SourceFacts, inventory, measures, purpose_columns
from veil.governance.render import Document
from veil.governance.subjects import now
from veil.policy.governance import LEGAL_BASES, period_days

if TYPE_CHECKING:
    from veil.governance.runner import Governor


def ropa(gov: Governor, facts: list[SourceFacts] | None = None) -> dict[str, Any]:
    policy = gov.policy
    facts = inventory(gov) if facts is None else facts
    counts = gov.consent.latest_counts()
    activities = []
    declared_all: set[str] = set()
    for name, p in policy.purposes.items():
        cols = purpose_columns(policy, name, facts)
        found = sorted({c for cats in cols.values() for c in cats})
        declared_all.update(p.data_categories)
        activities.append(
            {
                "purpose": name,
                "description": p.description,
                "legal_basis": p.legal_basis,
                "legal_basis_text": LEGAL_BASES.get(p.legal_basis or "", "not stated"),
                "data_subjects": p.data_subjects,
                "data_categories": p.data_categories,
                "categories_found": found,
                "data_uses": p.data_uses,
                "recipients": p.recipients,
                "transfers": p.transfers,
                "retention": p.retention,
                "retention_days": period_days(p.retention) if p.retention else None,
                "columns": sorted(cols),
                "consent": counts.get(name, {}),
            }
        )
    found_all = {c for f in facts for cats in f.columns().values() for c in cats}
    gaps = sorted(c for c in found_all if not any(c == d or c.startswith(d + ".") for d in declared_all))
    ctl = policy.governance.controller
    return {
        "version": 1,
        "generated": now(),
        "controller": ctl.model_dump(),
        "activities": activities,
        "sources": [f.to_dict() for f in facts],
        "undeclared_categories": gaps,
        "security_measures": measures(gov.vault, policy),
    }


def ropa_document(doc: dict[str, Any]) -> Document:
    out = Document(f"Record of processing activities — {doc['controller']['name']}")
    ctl = doc["controller"]
    out.section("Controller (Art. 30(1)(a))").kv(
        [
            ("Name", ctl["name"]),
            ("Contact", ctl["contact"]),
            ("Representative", ctl["representative"]),
            ("Data protection officer", ctl["dpo"]),
            ("Generated", doc["generated"]),
        ]
    )
    for a in doc["activities"]:
        s = out.section(f"Processing activity: {a['purpose']}")
        s.kv(
            [
                ("Purpose (b)", a["description"] or a["purpose"]),
                ("Legal basis", a["legal_basis_text"]),
                ("Categories of data subjects (c)", a["data_subjects"]),
                ("Categories of personal data (c)", a["data_categories"]),
                ("Categories found in the data (data map)", a["categories_found"]),
                ("Data uses", a["data_uses"]),
                ("Recipients (d)", a["recipients"]),
                ("Transfers to third countries (e)", a["transfers"] or "none declared"),
                ("Time limit for erasure (f)", a["retention"] or "not set"),
                (
                    "Consent ledger (subjects, latest action)",
                    ", ".join(f"{k}: {v}" for k, v in sorted(a["consent"].items())),
                ),
            ]
        )
    src = out.section("Where the data is (data map)")
    rows = []
    for f in doc["sources"]:
        if f["problem"]:
            rows.append([f["label"], "—", "—", f"unreachable: {f['problem']}"])
        for table, info in sorted(f["tables"].items()):
            cats = sorted({c for cs in info.get("columns", {}).values() for c in cs})
            rows.append([f["label"], table, f"{info.get('rows', 0):,}", ", ".join(cats) or "no personal data found"])
    src.table(["source", "table", "rows", "categories"], rows)
    if doc["undeclared_categories"]:
        out.section("Gaps: categories found in the data that no purpose declares").items(doc["undeclared_categories"])
    out.section("Technical and organisational security measures (Art. 30(1)(g), Art. 32)").items(
        doc["security_measures"]
    )
    return out

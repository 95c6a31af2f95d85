"""A data protection impact assessment draft (GDPR Art. 35(7)) for one purpose.

(a) the processing described, (b) necessity and proportionality (what the purpose keeps and what the policy drops
before it), (c) risks scored likelihood x severity (1..3 each) from facts: special categories and direct
identifiers in the columns processed, volume, free text, AI training, transfers, consent withdrawals; (d) the
measures in place (operators per column, k-anonymity releases, DP budgets, retention, consent enforcement) and
what they leave: the residual risk. Sign-off fields are left for the people who must sign.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from veil.governance.inventory import dp_budgets_state, inventory, measures, purpose_columns, releases
from veil.governance.render import Document
from veil.governance.subjects import now
from veil.governance.taxonomy import is_high_risk, is_special
from veil.policy.governance import LEGAL_BASES

if TYPE_CHECKING:
    from veil.governance.runner import Governor

_REVERSIBLE_OK = {"pseudonymize", "hash", "redact", "mask", "generalize", "fake", "encrypt", "drop", "replace", "text"}


@dataclass
class Risk:
    name: str
    reason: str
    likelihood: int
    severity: int
    mitigation: str = ""
    residual_likelihood: int = 0
    residual_severity: int = 0

    @property
    def score(self) -> int:
        return self.likelihood * self.severity

    @property
    def residual(self) -> int:
        return (self.residual_likelihood or self.likelihood) * (self.residual_severity or self.severity)

    def to_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "score": self.score, "residual": self.residual, "level": level(self.residual)}


def level(score: int) -> str:
    return "high" if score >= 6 else "medium" if score >= 3 else "low"


def _treatment(gov: Governor, column: str) -> str:
    """The operator the policy applies to a ``source:table.column`` before the purpose sees it."""
    rules = gov.policy.columns
    table_col = column.split(":", 1)[1]
    bare = table_col.split(".", 1)[1]
    import fnmatch

    for pattern, rule in rules.items():
        if fnmatch.fnmatchcase(table_col, pattern) or fnmatch.fnmatchcase(bare, pattern):
            return rule.operator
    return "entity rule"


def _risks(gov: Governor, purpose: str, cols: dict[str, list[str]], volume: int) -> list[Risk]:
    p = gov.policy.purpose(purpose)
    cats = {c for cs in cols.values() for c in cs}
    special = sorted(c for c in cats if is_special(c))
    high = sorted(c for c in cats if is_high_risk(c) and not is_special(c))
    treated = {c: _treatment(gov, c) for c in cols}
    kept_direct = [e for e in p.keep if e in {"EMAIL_ADDRESS", "PHONE_NUMBER", "PERSON", "US_SSN", "CREDIT_CARD"}]
    vol_l = 3 if volume > 100_000 else 2 if volume > 1_000 else 1
    risks: list[Risk] = []
    if special:
        risks.append(Risk("Special categories of data (Art. 9/10)", ", ".join(special), vol_l, 3))
    if high:
        risks.append(Risk("Financial, government-id or credential data", ", ".join(high), vol_l, 3))
    if kept_direct:
        risks.append(Risk("Direct identifiers visible to the purpose", ", ".join(kept_direct), 2, 2))
    if any("user.content.private" in cs for cs in cols.values()):
        risks.append(Risk("Personal data hidden in free text", "free-text columns processed", 2, 2))
    if volume > 10_000:
        risks.append(Risk("Large-scale processing", f"about {volume:,} data subjects", vol_l, 2))
    if "train_ai_system" in p.data_uses:
        risks.append(Risk("Memorization by a trained model", "data use train_ai_system", 2, 3))
    if p.transfers:
        risks.append(Risk("Transfer to third countries", ", ".join(p.transfers), 2, 2))
    if p.legal_basis is None:
        risks.append(Risk("No legal basis stated", "purposes.<name>.legal_basis is not set", 3, 3))
    if not risks:
        risks.append(Risk("Re-identification of the data processed", "no high-risk category found", 1, 1))
    for r in risks:
        _mitigate(gov, purpose, r, treated)
    return risks


def _mitigate(gov: Governor, purpose: str, risk: Risk, treated: dict[str, str]) -> None:
    """Lower a risk by the measures the vault shows for this purpose."""
    done = []
    if treated and all(op in _REVERSIBLE_OK for op in treated.values() if op != "entity rule"):
        done.append("policy operators transform the columns before use")
        risk.residual_severity = max(1, risk.severity - 1)
    rel = releases(gov.vault, purpose)
    smallest = [r["smallest_class"] for r in rel if r.get("smallest_class")]
    if smallest:
        done.append(f"k-anonymous releases (smallest class {min(smallest)})")
        risk.residual_likelihood = max(1, risk.likelihood - 1)
    if dp_budgets_state(gov.vault):
        done.append("statistics released with differential privacy")
        risk.residual_likelihood = max(1, (risk.residual_likelihood or risk.likelihood) - 1)
    if gov.policy.purpose(purpose).needs_consent:
        done.append("consent enforced per subject")
    if any(r.purpose == purpose for r in gov.policy.governance.retention):
        done.append("retention enforced (veil retention run)")
    risk.mitigation = "; ".join(done) or "none recorded"


def dpia(gov: Governor, purpose: str) -> dict[str, Any]:
    p = gov.policy.purpose(purpose)
    facts = inventory(gov)
    cols = purpose_columns(gov.policy, purpose, facts)
    all_personal = {f"{f.name}:{c}" for f in facts for c in f.columns()}
    volume = max((t.get("identities", 0) for f in facts for t in f.tables.values()), default=0)
    risks = _risks(gov, purpose, cols, volume)
    overall = max(r.residual for r in risks)
    return {
        "version": 1,
        "generated": now(),
        "purpose": purpose,
        "processing": {
            "description": p.description,
            "legal_basis": LEGAL_BASES.get(p.legal_basis or "", "not stated"),
            "data_uses": p.data_uses,
            "data_subjects": p.data_subjects,
            "recipients": p.recipients,
            "retention": p.retention,
            "sources": [f.label for f in facts],
            "subjects_estimate": volume,
        },
        "necessity": {
            "columns_processed": sorted(cols),
            "columns_dropped": sorted(all_personal - set(cols)),
            "entities_kept_in_clear": p.keep,
        },
        "risks": [r.to_dict() for r in risks],
        "releases": releases(gov.vault, purpose),
        "dp_budgets": dp_budgets_state(gov.vault),
        "measures": measures(gov.vault, gov.policy),
        "residual_risk": level(overall),
        "prior_consultation": level(overall) == "high",  # Art. 36: residual high risk goes to the authority
        "sign_off": {"assessor": "", "dpo_advice": "", "decision": "", "date": ""},
    }


def dpia_document(doc: dict[str, Any]) -> Document:
    out = Document(f"Data protection impact assessment (draft) — purpose '{doc['purpose']}'")
    pr = doc["processing"]
    out.section("(a) The processing").kv(
        [
            ("Description", pr["description"]),
            ("Legal basis", pr["legal_basis"]),
            ("Data uses", pr["data_uses"]),
            ("Data subjects", pr["data_subjects"]),
            ("Estimated subjects", f"{pr['subjects_estimate']:,}"),
            ("Recipients", pr["recipients"]),
            ("Retention", pr["retention"] or "not set"),
            ("Sources", pr["sources"]),
            ("Generated", doc["generated"]),
        ]
    )
    ne = doc["necessity"]
    s = out.section("(b) Necessity and proportionality")
    s.kv([("Entities the purpose sees in clear", ne["entities_kept_in_clear"] or "none")])
    s.p(f"Columns processed ({len(ne['columns_processed'])}):").items(ne["columns_processed"])
    s.p(f"Personal columns the purpose does not receive ({len(ne['columns_dropped'])}):").items(ne["columns_dropped"])
    out.section("(c) Risks to the rights and freedoms of data subjects").table(
        ["risk", "why", "likelihood", "severity", "score", "mitigation", "residual"],
        [
            [
                r["name"],
                r["reason"],
                r["likelihood"],
                r["severity"],
                r["score"],
                r["mitigation"],
                f"{r['residual']} ({r['level']})",
            ]
            for r in doc["risks"]
        ],
    )
    m = out.section("(d) Measures in place")
    m.items(doc["measures"])
    m.table(
        ["released", "action", "source", "privacy models", "smallest class"],
        [[r["at"], r["action"], r["source"], r["models"], r["smallest_class"]] for r in doc["releases"]],
    )
    m.table(
        ["DP dataset", "budget epsilon", "spent", "releases"],
        [[b["dataset"], b["epsilon"], round(b["spent"], 4), b["releases"]] for b in doc["dp_budgets"]],
    )
    out.section("Residual risk").p(
        f"Overall residual risk: {doc['residual_risk']}."
        + (
            " Art. 36: consult the supervisory authority before the processing starts."
            if doc["prior_consultation"]
            else ""
        )
    )
    out.section("Sign-off").kv(
        [("Assessor", "________"), ("DPO advice", "________"), ("Decision", "________"), ("Date", "________")]
    )
    return out

"""From a policy, a purpose and column profiles to one action per column, each with the reason for it.

Order of precedence for a column:

1. the purpose lists the columns it needs: any other column is **dropped** (data minimization);
2. a ``columns:`` rule of the policy matching the column (exact name, then glob; ``table.column`` first);
3. by the column's classification: free text -> ``text`` (the text anonymizer runs inside each cell);
   identifiers -> the policy's rule for their entity (``entities:``, else ``default``); quasi-identifiers ->
   their entity rule when the policy has one, else ``generalize`` where a generalization exists (dates to
   years, ZIP codes to prefixes, ages to bands, addresses to city, coordinates rounded) or ``keep``;
   sensitive attributes -> ``tables.sensitive``; anything else is kept.

Entities the purpose ``keep``\\ s are kept as they are.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from typing import Any, Literal

from veil.detect.columns import ColumnProfile
from veil.policy.model import ColumnRule, Policy
from veil.transform.base import Operator, make_operator

ActionKind = Literal["keep", "drop", "operator", "text"]
GENERALIZABLE = frozenset({"DATE_TIME", "ZIP_CODE", "AGE", "GPS", "STREET_ADDRESS"})


@dataclass
class ColumnAction:
    column: str
    kind: ActionKind
    reason: str
    entity: str | None = None
    operator: str | None = None
    params: dict[str, Any] = field(default_factory=dict)

    def build(self) -> Operator:
        assert self.operator is not None
        return make_operator(self.operator, self.params)

    @property
    def summary(self) -> str:
        if self.kind != "operator":
            return self.kind
        extra = ", ".join(f"{k}={v}" for k, v in self.params.items())
        return f"{self.operator}({extra})" if extra else str(self.operator)

    def to_dict(self) -> dict[str, Any]:
        return {"column": self.column, "action": self.summary, "entity": self.entity, "reason": self.reason}


def _rule_for(policy: Policy, column: str, table: str | None) -> tuple[str, ColumnRule] | None:
    names = [f"{table}.{column}", column] if table else [column]
    for name in names:
        if name in policy.columns:
            return name, policy.columns[name]
    for name in names:
        for pattern, rule in policy.columns.items():
            if any(ch in pattern for ch in "*?[") and fnmatch.fnmatchcase(name, pattern):
                return pattern, rule
    return None


def _needed(policy: Policy, purpose: str | None, column: str, table: str | None) -> bool:
    if purpose is None:
        return True
    wanted = policy.purpose(purpose).columns
    if not wanted:
        return True
    names = [column, f"{table}.{column}"] if table else [column]
    return any(fnmatch.fnmatchcase(n, w) for n in names for w in wanted)


def plan_columns(
    policy: Policy, profiles: list[ColumnProfile], purpose: str | None = None, table: str | None = None
) -> list[ColumnAction]:
    kept_entities = set(policy.purpose(purpose).keep) if purpose is not None else set()
    actions = []
    for prof in profiles:
        actions.append(_plan_one(policy, prof, purpose, table, kept_entities))
    return actions


def _plan_one(
    policy: Policy, prof: ColumnProfile, purpose: str | None, table: str | None, kept: set[str]
) -> ColumnAction:
    col = prof.name
    strong = [e for e in prof.entities if e.confidence >= policy.tables.min_confidence]
    entity = strong[0].entity if strong else None
    if not _needed(policy, purpose, col, table):
        return ColumnAction(col, "drop", f"purpose '{purpose}' does not need it", entity)
    found = _rule_for(policy, col, table)
    if found is not None:
        pattern, rule = found
        why = f"policy rule columns.{pattern}"
        if rule.operator in ("drop", "text"):
            return ColumnAction(col, rule.operator, why, rule.entity or entity)  # type: ignore[arg-type]
        if rule.operator == "keep":
            return ColumnAction(col, "keep", why, rule.entity or entity)
        return ColumnAction(col, "operator", why, rule.entity or entity or "VALUE", rule.operator, rule.params)
    if prof.role == "free_text":
        return ColumnAction(col, "text", "free text: personal data inside cells is anonymized", entity)
    if entity is None:
        if prof.role == "sensitive" and policy.tables.sensitive == "drop":
            return ColumnAction(col, "drop", "sensitive attribute (tables.sensitive: drop)")
        why = "sensitive attribute (kept for analysis)" if prof.role == "sensitive" else "no personal data found"
        if prof.role == "quasi_identifier":
            why = "quasi-identifier without a generalization (kept)"
        return ColumnAction(col, "keep", why)
    if entity in kept:
        return ColumnAction(col, "keep", f"purpose '{purpose}' keeps {entity}", entity)
    if prof.role == "quasi_identifier" and entity not in policy.entities:
        if policy.tables.quasi_identifiers == "generalize" and entity in GENERALIZABLE:
            return ColumnAction(col, "operator", "quasi-identifier: generalized", entity, "generalize", {})
        return ColumnAction(col, "keep", "quasi-identifier (kept: tables.quasi_identifiers)", entity)
    entity_rule = policy.rule_for(entity, purpose)
    source = f"entities.{entity}" if entity in policy.entities else "default"
    if entity_rule.operator == "keep":
        return ColumnAction(col, "keep", f"policy rule {source}", entity)
    return ColumnAction(col, "operator", f"{prof.role.replace('_', ' ')}: policy rule {source}", entity,
                        entity_rule.operator, entity_rule.params)  # fmt: skip

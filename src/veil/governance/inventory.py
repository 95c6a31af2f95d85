"""What the records of processing, impact assessments and breach reports state as facts: per source its tables,
volumes and the fideslang categories of its personal columns; the measures in place, read from the vault
(keys, audit chain, roles, TOTP, DP budgets, releases) rather than claimed."""

from __future__ import annotations

import contextlib
import fnmatch
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from veil.errors import VeilError
from veil.governance.taxonomy import datamap_categories
from veil.storage.schema import audit, dp_budgets, dp_spends, principals, roles, tokens

if TYPE_CHECKING:
    from veil.governance.runner import Governor
    from veil.policy import Policy
    from veil.vault import Vault


@dataclass
class SourceFacts:
    name: str
    label: str
    tables: dict[str, dict[str, Any]] = field(default_factory=dict)  # rows, identities, columns {col: categories}
    problem: str = ""

    def columns(self) -> dict[str, list[str]]:
        return {f"{t}.{c}": cats for t, info in self.tables.items() for c, cats in info.get("columns", {}).items()}

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "label": self.label, "tables": self.tables, "problem": self.problem}


def inventory(gov: Governor) -> list[SourceFacts]:
    """Facts of every source; a source that is down is reported as such, not fatal (a record still gets written)."""
    from veil.governance.sources import SourceSchema, expand, safe_url

    out = []
    for name, source in gov.policy.governance.sources.items():
        try:
            schema = SourceSchema(name, source, detector=gov.detector, base=gov.base)
        except VeilError as exc:
            label = f"source '{name}'"
            with contextlib.suppress(VeilError):
                label = f"source '{name}' ({safe_url(expand(source.url, name))})"
            out.append(SourceFacts(name, label, problem=exc.message))
            continue
        try:
            cats = datamap_categories(schema.data_map)
            volumes = schema.volumes()
            facts = SourceFacts(name, schema.label)
            for table, vol in volumes.items():
                cols = {k.split(".", 1)[1]: v for k, v in cats.items() if k.split(".", 1)[0] == table}
                facts.tables[table] = {**vol, "columns": cols}
            out.append(facts)
        except VeilError as exc:
            out.append(SourceFacts(name, schema.label, problem=exc.message))
        finally:
            schema.close()
    return out


def purpose_columns(policy: Policy, purpose: str, facts: list[SourceFacts]) -> dict[str, list[str]]:
    """The personal columns a purpose processes (its ``columns`` globs; all personal columns when it names none)."""
    wanted = policy.purpose(purpose).columns
    out: dict[str, list[str]] = {}
    for f in facts:
        for col, cats in f.columns().items():
            bare = col.split(".", 1)[1]
            if not wanted or any(fnmatch.fnmatchcase(col, g) or fnmatch.fnmatchcase(bare, g) for g in wanted):
                out[f"{f.name}:{col}"] = cats
    return out


def measures(vault: Vault, policy: Policy) -> list[str]:
    """Technical and organisational measures in place, as the vault and the policy show them."""
    with vault.engine.connect() as conn:
        n_roles = conn.execute(select(func.count()).select_from(roles)).scalar_one()
        n_principals = conn.execute(select(func.count()).select_from(principals)).scalar_one()
        n_totp = conn.execute(
            select(func.count()).select_from(principals).where(principals.c.totp_secret.is_not(None))
        ).scalar_one()
        n_tokens = conn.execute(select(func.count()).select_from(tokens)).scalar_one()
        n_budgets = conn.execute(select(func.count()).select_from(dp_budgets)).scalar_one()
    check = vault.audit.verify()
    chain = f"verified intact, {check.records:,} records" if check.ok else f"BROKEN: {check.problem}"
    items = [
        f"Pseudonymization through an envelope-encrypted vault: AES-256-GCM data keys per scope and subject, wrapped "
        f"by a master key kept outside the database (key id {vault.master.kek_id}); {n_tokens:,} tokens held",
        f"Tamper-evident audit log (HMAC-SHA256 chain, checkpointed outside the database): {chain}",
        f"Role-based access: {n_roles} role(s), {n_principals} principal(s), {n_totp} with TOTP second factor; "
        f"access.enforce is {'on' if policy.access.enforce else 'off (local trust)'}",
        "Erasure crypto-shreds the subject's keys; consent ledger append-only and enforced at use",
        f"Model calls through the guard: requests holding {', '.join(policy.guard.block)} are refused; "
        f"personal data in answers: {policy.guard.output.action}",
    ]
    if n_budgets:
        items.append(f"Differential privacy budgets on {n_budgets} dataset(s), never overspent (ledger)")
    return items + list(policy.governance.security_measures)


def dp_budgets_state(vault: Vault) -> list[dict[str, Any]]:
    with vault.engine.connect() as conn:
        budgets = conn.execute(select(dp_budgets)).all()
        spent = {
            r.dataset: (float(r.e or 0), int(r.n))
            for r in conn.execute(
                select(dp_spends.c.dataset, func.sum(dp_spends.c.epsilon).label("e"), func.count().label("n")).group_by(
                    dp_spends.c.dataset
                )
            )
        }
    return [
        {
            "dataset": b.dataset,
            "epsilon": b.epsilon,
            "spent": spent.get(b.dataset, (0.0, 0))[0],
            "releases": spent.get(b.dataset, (0.0, 0))[1],
        }
        for b in budgets
    ]


def releases(vault: Vault, purpose: str | None = None) -> list[dict[str, Any]]:
    """k-anonymity releases and table anonymizations recorded in the audit log (for one purpose if given)."""
    stmt = select(audit.c.at, audit.c.action, audit.c.purpose, audit.c.details).where(
        audit.c.action.in_(["kanon", "anonymize-table"])
    )
    out = []
    with vault.engine.connect() as conn:
        for r in conn.execute(stmt.order_by(audit.c.id)):
            if purpose and r.action == "anonymize-table" and r.purpose != purpose:
                continue
            d = json.loads(r.details)
            out.append(
                {
                    "at": r.at,
                    "action": r.action,
                    "purpose": r.purpose,
                    "source": d.get("source"),
                    "models": d.get("models"),
                    "smallest_class": d.get("smallest_class"),
                    "rows": d.get("rows"),
                }
            )
    return out

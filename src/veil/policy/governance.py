"""The governance part of a policy: what a purpose is for (legal basis, retention, fideslang categories and uses,
recipients) and where the data subjects' data lives (sources, identity columns, references, erasure actions).

Data categories, data uses and subject types are names from the fideslang taxonomy (Fides' privacy taxonomy,
PyPI ``fideslang``), checked when the policy loads, so a record of processing names the same things Fides does.
"""

from __future__ import annotations

import difflib
import re
from functools import cache
from pathlib import Path
from typing import Annotated, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

LegalBasis = Literal[
    "consent", "contract", "legal_obligation", "vital_interests", "public_task", "legitimate_interests"
]
LEGAL_BASES: dict[str, str] = {
    "consent": "Art. 6(1)(a) consent of the data subject",
    "contract": "Art. 6(1)(b) performance of a contract with the data subject",
    "legal_obligation": "Art. 6(1)(c) compliance with a legal obligation",
    "vital_interests": "Art. 6(1)(d) protection of vital interests",
    "public_task": "Art. 6(1)(e) a task in the public interest or official authority",
    "legitimate_interests": "Art. 6(1)(f) legitimate interests of the controller or a third party",
}
T = TypeVar("T")
_PERIOD = re.compile(r"^(\d{1,5})\s*([dwmy])$")
_DAYS = {"d": 1, "w": 7, "m": 30, "y": 365}
Period = Annotated[str, Field(pattern=_PERIOD.pattern, description="a period: 30d, 6w, 18m, 7y")]
TableName = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_$.]*$", max_length=200)]


def lower_names(value: dict[str, T], what: str) -> dict[str, T]:
    """Names a person types on the command line (purposes, sources): lower-case, digits, '-' and '_'."""
    for name in value:
        if not re.fullmatch(r"[a-z][a-z0-9_\-]{0,62}", name):
            raise ValueError(f"{what} name '{name}' must be lower-case letters, digits, '-' or '_'")
    return value


def period_days(value: str) -> int:
    """Days in a period written as ``30d``, ``6w``, ``18m`` (30-day months) or ``7y`` (365-day years)."""
    match = _PERIOD.match(value.strip())
    if match is None:
        raise ValueError(f"'{value}' is not a period like 30d, 6w, 18m or 7y")
    return int(match.group(1)) * _DAYS[match.group(2)]


@cache
def taxonomy() -> dict[str, frozenset[str]]:
    """The fideslang default taxonomy's keys: data categories, data uses, data subject types."""
    from fideslang.default_taxonomy import DEFAULT_TAXONOMY as tax

    return {
        "data_categories": frozenset(c.fides_key for c in tax.data_category),
        "data_uses": frozenset(u.fides_key for u in tax.data_use),
        "data_subjects": frozenset(s.fides_key for s in tax.data_subject),
    }


def _check_keys(kind: str, names: list[str]) -> list[str]:
    known = taxonomy()[kind]
    bad = [n for n in names if n not in known]
    if bad:
        close = difflib.get_close_matches(bad[0], sorted(known), n=4, cutoff=0.6)
        near = f" (did you mean {', '.join(close)}?)" if close else ""
        raise ValueError(f"not in the fideslang taxonomy ({kind}): {', '.join(bad)}{near}")
    return names


class PurposeGovernance(BaseModel):
    """Fields a purpose carries for records of processing, consent and retention (all optional)."""

    legal_basis: LegalBasis | None = Field(default=None, description="GDPR Art. 6(1) basis of the processing")
    retention: Period | None = Field(default=None, description="how long data kept for this purpose may stay")
    data_categories: list[str] = Field(default=[], description="fideslang data categories, e.g. user.contact.email")
    data_uses: list[str] = Field(default=[], description="fideslang data uses, e.g. marketing.communications.email")
    data_subjects: list[str] = Field(default=[], description="fideslang subject types, e.g. customer")
    recipients: list[str] = Field(default=[], description="who receives the data (processors, third parties)")
    transfers: list[str] = Field(default=[], description="transfers to third countries and their safeguards")

    @field_validator("data_categories")
    @classmethod
    def _categories(cls, v: list[str]) -> list[str]:
        return _check_keys("data_categories", v)

    @field_validator("data_uses")
    @classmethod
    def _uses(cls, v: list[str]) -> list[str]:
        return _check_keys("data_uses", v)

    @field_validator("data_subjects")
    @classmethod
    def _subjects(cls, v: list[str]) -> list[str]:
        return _check_keys("data_subjects", v)

    @property
    def needs_consent(self) -> bool:
        return self.legal_basis == "consent"


EraseAction = Literal["delete", "null", "mask"]


class TableErasure(BaseModel):
    """How erasure treats a table: delete the subject's rows, or keep them with personal columns nulled or masked
    (``columns``: which ones; default: the columns the data map classifies as personal, and links to erased rows)."""

    model_config = ConfigDict(extra="forbid")
    action: EraseAction = "delete"
    columns: list[str] = []


class Source(BaseModel):
    """A database holding data subjects' data."""

    model_config = ConfigDict(extra="forbid")
    url: str = Field(min_length=1, description="SQLAlchemy URL; ${VAR} is read from the environment")
    datamap: str | None = Field(default=None, description="a data map from veil scan-db --out (default: scan)")
    identity: dict[TableName, list[str]] = Field(
        default={}, description="identity columns per table (default: e-mail, phone and id columns of the data map)"
    )
    references: list[str] = Field(
        default=[], description="links without a foreign key: 'tickets.customer_email -> customers.email'"
    )
    erase: dict[TableName, EraseAction | TableErasure] = Field(default={}, description="per table (default: delete)")
    tables: list[TableName] | None = Field(default=None, description="only these tables (default: all)")

    @field_validator("erase", mode="before")
    @classmethod
    def _yaml_null(cls, v: object) -> object:
        """YAML reads a bare ``null`` as nothing: ``orders: null`` means the null action."""
        if not isinstance(v, dict):
            return v
        out: dict[object, object] = {}
        for table, rule in v.items():
            if rule is None:
                rule = "null"
            elif isinstance(rule, dict) and "action" in rule and rule["action"] is None:
                rule = {**rule, "action": "null"}
            out[table] = rule
        return out

    @field_validator("references")
    @classmethod
    def _refs(cls, v: list[str]) -> list[str]:
        for ref in v:
            parse_reference(ref)
        return v

    def datamap_path(self, base: Path | None) -> Path | None:
        """The saved data map's file, a relative path taken from the policy's folder ``base``."""
        if not self.datamap:
            return None
        path = Path(self.datamap)
        return base / path if base is not None and not path.is_absolute() else path

    def erasure(self, table: str) -> TableErasure:
        got = self.erase.get(table, "delete")
        return got if isinstance(got, TableErasure) else TableErasure(action=got)


def parse_reference(text: str) -> tuple[str, str, str, str]:
    """``child.col -> parent.col`` as (child table, child column, parent table, parent column)."""
    match = re.fullmatch(r"\s*([\w$]+)\.([\w$]+)\s*->\s*([\w$]+)\.([\w$]+)\s*", text)
    if match is None:
        raise ValueError(f"reference '{text}' must read 'table.column -> table.column'")
    a, b, c, d = match.groups()
    return a, b, c, d


class RetentionRule(BaseModel):
    """Rows of ``table`` whose ``column`` (a date) is older than the purpose's retention are deleted or anonymized."""

    model_config = ConfigDict(extra="forbid")
    source: str
    table: TableName
    column: str = Field(min_length=1)
    purpose: str
    action: Literal["delete", "anonymize"] = "delete"


class Controller(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = "the controller"
    contact: str = ""
    representative: str = ""
    dpo: str = ""


class Governance(BaseModel):
    model_config = ConfigDict(extra="forbid")
    jurisdiction: Literal["gdpr", "ccpa"] = Field(default="gdpr", description="deadline of requests: 1 month / 45 d")
    controller: Controller = Controller()
    sources: dict[str, Source] = {}
    retention: list[RetentionRule] = []
    security_measures: list[str] = Field(default=[], description="measures beyond those Veil reports itself")
    breach_contact: str = Field(default="", description="who answers questions about a breach (Art. 33(3)(b))")

    @field_validator("sources")
    @classmethod
    def _source_names(cls, v: dict[str, Source]) -> dict[str, Source]:
        return lower_names(v, "source")

    @model_validator(mode="after")
    def _retention_sources(self) -> Governance:
        for rule in self.retention:
            if rule.source not in self.sources:
                raise ValueError(f"retention names source '{rule.source}', which governance.sources does not define")
        return self

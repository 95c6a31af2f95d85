"""The policy: a YAML file a person can read, diff and review. The same policy drives the CLI, API and proxy."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from veil.errors import ConfigError
from veil.policy.governance import Governance, PurposeGovernance, lower_names
from veil.policy.service import ServicePolicy
from veil.policy.watch import Models, MonitorPolicy
from veil.transform.base import Operator, make_operator

EntityName = Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9_]*$")]
Score = Annotated[float, Field(ge=0.0, le=1.0)]


class Rule(BaseModel):
    """``{operator: NAME, <parameters of that operator>}``."""

    model_config = ConfigDict(extra="allow", frozen=True)
    operator: str

    @model_validator(mode="after")
    def _check_operator(self) -> Rule:
        self._validate_operator()
        return self

    def _validate_operator(self) -> None:
        try:
            make_operator(self.operator, self.params)
        except ConfigError as exc:
            raise ValueError(exc.message) from None

    @property
    def params(self) -> dict[str, Any]:
        return dict(self.model_extra or {})

    def build(self) -> Operator:
        return make_operator(self.operator, self.params)


TABLE_ACTIONS = ("drop", "text")


class ColumnRule(Rule):
    """A table column's treatment: any operator, or ``drop`` (minimize it away) or ``text`` (anonymize the text
    inside each cell). ``entity`` names the type the operator treats the values as (default: the classified one)."""

    entity: EntityName | None = None

    def _validate_operator(self) -> None:
        if self.operator not in TABLE_ACTIONS:
            super()._validate_operator()
        elif self.params:
            raise ValueError(f"'{self.operator}' takes no parameters")


class Requirement(BaseModel):
    """A guarantee the released table must meet, checked on the output before it is committed."""

    model_config = ConfigDict(extra="forbid")
    quasi_identifiers: list[str] = Field(
        default=[], description="output columns an attacker may know (default: those classified as quasi-identifiers)"
    )
    k: int | None = Field(default=None, ge=1, description="every combination of quasi-identifiers on at least k rows")
    l: float | None = Field(default=None, ge=1, description="l-diversity of the sensitive column")  # noqa: E741
    l_variant: Literal["distinct", "entropy", "recursive"] = "distinct"
    c: float = Field(default=3.0, gt=0)
    t: float | None = Field(default=None, ge=0, le=1, description="t-closeness of the sensitive column")
    t_distance: Literal["equal", "ordered"] = "equal"
    sensitive: str | None = None

    @model_validator(mode="after")
    def _something(self) -> Requirement:
        if self.k is None and self.l is None and self.t is None:
            raise ValueError("require needs k, l or t")
        if (self.l is not None or self.t is not None) and not self.sensitive:
            raise ValueError("l and t need the sensitive column (sensitive: ...)")
        return self


class Tables(BaseModel):
    """How tables are classified and treated when no column rule says otherwise."""

    model_config = ConfigDict(extra="forbid")
    sample_rows: int = Field(default=1000, ge=10, description="rows sampled to classify each column")
    min_confidence: Score = Field(default=0.5, description="a column's entity counts from this confidence")
    quasi_identifiers: Literal["generalize", "keep"] = Field(
        default="generalize",
        description="what to do with quasi-identifiers without a rule (keep: leave them for a k-anonymity step)",
    )
    sensitive: Literal["keep", "drop"] = "keep"
    require: Requirement | None = Field(default=None, description="release only if the output meets this")


class Detection(BaseModel):
    model_config = ConfigDict(extra="forbid")
    threshold: Score = 0.35
    thresholds: dict[EntityName, Score] = {}
    entities: list[EntityName] | None = None
    ner: bool | Literal["auto"] = "auto"
    profile: Literal["general", "clinical", "chat"] = Field(
        default="general", description="the kind of text: general, clinical (HIPAA Safe Harbor) or chat"
    )
    model: Literal["veil", "spacy-sm"] = Field(default="veil", description="the NER model: Veil's own or spaCy sm")
    recognizers: str | None = Field(default=None, description="YAML file of custom recognizers, relative to the policy")
    allow: list[str] = []
    deny: dict[EntityName, list[str]] = {}


class Purpose(PurposeGovernance):
    model_config = ConfigDict(extra="forbid")
    description: str = ""
    keep: list[EntityName] = Field(default=[], description="entities this purpose may see as they are")
    columns: list[str] = Field(default=[], description="table columns this purpose needs (others are dropped)")


class GuardOutput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    action: Literal["mask", "block", "flag"] = "mask"  # for personal data in an answer that the prompt did not hold
    entities: list[EntityName] | None = None  # limit the scan to these (default: all)


class GuardPolicy(BaseModel):
    """The guard (proxy and client wrapper): what blocks a request, what happens to leaks in answers."""

    model_config = ConfigDict(extra="forbid")
    block: list[EntityName] = ["API_KEY", "PRIVATE_KEY", "PASSWORD", "JWT"]
    output: GuardOutput = GuardOutput()
    unknown_paths: Literal["refuse", "pass"] = "refuse"
    max_body_bytes: int = Field(default=4_000_000, ge=1024, description="request bodies, counted as they arrive")
    max_answer_bytes: int = Field(default=16_000_000, ge=1024, description="a whole answer, or one stream event")
    max_depth: int = Field(default=64, ge=4, le=1000, description="JSON nesting refused beyond this")
    timeout_seconds: float = Field(default=120.0, gt=0)
    restore: Literal["all", "none"] | list[EntityName] = Field(
        default="all",
        description="which of the call's own tokens answers get back as originals (none: the caller sees tokens)",
    )
    system_prompt: str | None = Field(
        default=None, min_length=1, max_length=4000,
        description="a privacy instruction the guard adds as the first system message of every chat call",
    )


class AccessPolicy(BaseModel):
    """``enforce: true``: every privileged command (restore, audit export and verify, key rotation, roles and
    principals) needs a principal (``VEIL_API_KEY``, and ``VEIL_TOTP`` for privileged permissions), as the
    service does; without it, whoever can read the master key file is trusted (the local trust model)."""

    model_config = ConfigDict(extra="forbid")
    enforce: bool = False


class Policy(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: Literal[1] = 1
    scope: str = Field(default="default", min_length=1, max_length=200, description="pseudonym scope")
    locale: str = "en_US"
    detection: Detection = Detection()
    default: Rule = Rule(operator="replace")
    entities: dict[EntityName, Rule] = {}
    purposes: dict[str, Purpose] = {}
    guard: GuardPolicy = GuardPolicy()
    columns: dict[str, ColumnRule] = Field(
        default={}, description="per table column (name or glob; table.column for databases)"
    )
    tables: Tables = Tables()
    access: AccessPolicy = AccessPolicy()
    governance: Governance = Governance()
    service: ServicePolicy = ServicePolicy()
    models: Models = Models()
    monitor: MonitorPolicy = MonitorPolicy()

    @model_validator(mode="after")
    def _retention_purposes(self) -> Policy:
        for rule in self.governance.retention:
            if rule.purpose not in self.purposes:
                raise ValueError(f"retention names purpose '{rule.purpose}', which purposes does not define")
            if self.purposes[rule.purpose].retention is None:
                raise ValueError(f"retention uses purpose '{rule.purpose}', which sets no retention period")
        return self

    @field_validator("purposes")
    @classmethod
    def _purpose_names(cls, value: dict[str, Purpose]) -> dict[str, Purpose]:
        return lower_names(value, "purpose")

    def rule_for(self, entity: str, purpose: str | None = None) -> Rule:
        if purpose is not None and entity in self.purpose(purpose).keep:
            return Rule(operator="keep")
        return self.entities.get(entity, self.default)

    def purpose(self, name: str) -> Purpose:
        try:
            return self.purposes[name]
        except KeyError:
            known = ", ".join(sorted(self.purposes)) or "none defined"
            raise ConfigError(f"unknown purpose '{name}' (policy purposes: {known})") from None

    @property
    def reversible(self) -> bool:
        """True when every rule can be undone by ``restore`` (pseudonymize, encrypt or keep)."""
        rules = [self.default, *self.entities.values()]
        return all(r.operator in ("pseudonymize", "encrypt", "keep") for r in rules)

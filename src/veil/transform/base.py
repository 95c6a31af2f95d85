"""Operators: one per module, a typed parameter model each, registered by name.

``apply_many(values, entity, ctx)`` is the core (batched, so pseudonymization makes one vault call);
``apply(value, finding, ctx)`` is the per-finding form and ``expr(column, entity, ctx)`` the polars column form.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError

from veil.errors import ConfigError, MissingExtraError, RegistryError
from veil.types import Finding

if TYPE_CHECKING:
    import polars as pl

    from veil.vault import Vault


class OperatorParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass
class TransformContext:
    """Where reversible operators keep their mappings and which keys they use."""

    vault: Vault | None = None
    scope: str = "default"
    subject: str = ""
    locale: str = "en_US"

    def require_vault(self, operator: str) -> Vault:
        if self.vault is None:
            raise ConfigError(f"the '{operator}' operator needs a vault (keys and token store)")
        return self.vault


class Operator(ABC):
    name: ClassVar[str]
    Params: ClassVar[type[OperatorParams]]
    reversible: ClassVar[bool] = False

    def __init__(self, params: OperatorParams | Mapping[str, Any] | None = None) -> None:
        if isinstance(params, OperatorParams):
            if not isinstance(params, self.Params):
                raise ConfigError(f"operator '{self.name}' got parameters of another operator")
            self.params = params
            return
        try:
            self.params = self.Params.model_validate(dict(params or {}))
        except ValidationError as exc:
            first = exc.errors()[0]
            key = ".".join(str(p) for p in first["loc"]) or "(parameters)"
            raise ConfigError(f"operator '{self.name}': parameter '{key}': {first['msg']}") from None

    @abstractmethod
    def apply_many(self, values: Sequence[str], entity: str, ctx: TransformContext) -> list[str]:
        """The replacement of each value (all of one entity type)."""

    def apply(self, value: str, finding: Finding, ctx: TransformContext) -> str:
        return self.apply_many([value], finding.entity, ctx)[0]

    def apply_series(self, series: pl.Series, entity: str, ctx: TransformContext) -> pl.Series:
        """Column form on a polars Series: nulls stay null, values become text, each distinct value is transformed
        once (one batched call) and mapped back, so repeated values cost nothing more."""
        try:
            import polars as pl
        except ImportError:  # pragma: no cover - polars is in veil[tabular]
            raise MissingExtraError("tabular", "polars") from None
        values = series.cast(pl.Utf8) if series.dtype != pl.Binary else series.bin.encode("hex")
        return map_distinct(values, lambda distinct: self.apply_many(distinct, entity, ctx))

    def expr(self, column: str, entity: str, ctx: TransformContext) -> pl.Expr:
        """Polars expression form of :meth:`apply_series`."""
        try:
            import polars as pl
        except ImportError:  # pragma: no cover - polars is in veil[tabular]
            raise MissingExtraError("tabular", "polars") from None
        return pl.col(column).map_batches(lambda s: self.apply_series(s, entity, ctx), return_dtype=pl.Utf8)


def map_distinct(values: pl.Series, fn: Callable[[list[str]], list[str]]) -> pl.Series:
    """Text column -> text column: ``fn`` runs once on the distinct non-null values (in order of first
    appearance, so sequential pseudonyms follow the rows) and the results are mapped back; nulls stay null."""
    import polars as pl

    distinct = values.drop_nulls().unique(maintain_order=True)
    if distinct.len() == 0:
        return pl.Series(values.name, [None] * values.len(), dtype=pl.Utf8)
    mapped = pl.Series(fn(distinct.to_list()), dtype=pl.Utf8)
    return values.replace_strict(distinct, mapped, default=None, return_dtype=pl.Utf8).alias(values.name)


OPERATORS: dict[str, type[Operator]] = {}


def register(cls: type[Operator]) -> type[Operator]:
    OPERATORS[cls.name] = cls
    return cls


def make_operator(name: str, params: Mapping[str, Any] | None = None) -> Operator:
    _load_builtin()
    try:
        cls = OPERATORS[name]
    except KeyError:
        raise RegistryError(f"unknown operator '{name}'", hint=f"operators: {', '.join(sorted(OPERATORS))}") from None
    return cls(params)


def operator_names() -> list[str]:
    _load_builtin()
    return sorted(OPERATORS)


_loaded = False


def _load_builtin() -> None:
    global _loaded
    if not _loaded:
        from veil.transform import (  # noqa: F401 - importing registers the operators
            encrypt,
            fake,
            generalize,
            hashing,
            keep,
            mask,
            pseudonymize,
            redact,
            replace,
        )

        _loaded = True

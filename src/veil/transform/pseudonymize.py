"""pseudonymize: consistent, reversible tokens from the vault (``<PERSON_1>``, ``User00042``, ...)."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import field_validator

from veil.errors import ConfigError
from veil.transform.base import Operator, OperatorParams, TransformContext, register
from veil.vault.formats import DEFAULT_FORMAT, TokenFormat


class PseudonymizeParams(OperatorParams):
    format: str = DEFAULT_FORMAT

    @field_validator("format")
    @classmethod
    def _valid(cls, v: str) -> str:
        try:
            TokenFormat(v)
        except ConfigError as exc:
            raise ValueError(exc.message) from None
        return v


@register
class Pseudonymize(Operator):
    name = "pseudonymize"
    Params = PseudonymizeParams
    reversible = True

    @property
    def token_format(self) -> TokenFormat:
        assert isinstance(self.params, PseudonymizeParams)
        return TokenFormat(self.params.format)

    def apply_many(self, values: Sequence[str], entity: str, ctx: TransformContext) -> list[str]:
        vault = ctx.require_vault(self.name)
        return vault.tokenize_many(ctx.scope, [(entity, v) for v in values], self.token_format, subject=ctx.subject)

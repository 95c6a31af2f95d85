"""Consent enforced where data is used: a row filter for tables (anonymize-table, DP queries) and a check for
single calls (the guard).

The filter reads the ledger once per run (the latest event of every subject for the purpose and their
restrictions), then keeps a row only when :meth:`Consent.decide` says its subject may be processed. A row whose
subject column is empty or not an identifier cannot show consent, so a consent-based purpose leaves it out too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from veil.errors import ConfigError, InputError
from veil.governance.consent import Consent
from veil.governance.locate import phone_region
from veil.governance.subjects import Subjects

if TYPE_CHECKING:
    import polars as pl

    from veil.policy import Policy
    from veil.vault import Vault


class ConsentFilter:
    """A ``row_filter`` for :func:`veil.tabular.pipeline.anonymize_table` (and any frame of subjects' rows)."""

    def __init__(self, ledger: Consent, purpose: str, column: str) -> None:
        self.ledger = ledger
        self.purpose = purpose
        self.column = column
        self.needs_consent = ledger.policy.purpose(purpose).needs_consent
        self.latest = ledger.latest(purpose)  # the whole ledger for the purpose, read once per run
        self.excluded = 0

    def allowed(self, sid: str | None) -> bool:
        if sid is None:
            return not self.needs_consent
        return self.ledger.decide(self.latest, sid, self.purpose, self.needs_consent)

    def __call__(self, frame: pl.DataFrame) -> pl.DataFrame:
        import polars as pl

        if self.column not in frame.columns:
            raise InputError(f"--subject-column {self.column}: the input has no such column")
        cells = frame[self.column].cast(pl.Utf8)
        distinct = [v for v in cells.unique().to_list() if v is not None]
        ids = self.ledger.subjects.ids(distinct)
        keep = [v for v, sid in zip(distinct, ids, strict=True) if self.allowed(sid)]
        mask = cells.is_in(keep)
        if not self.needs_consent:
            mask = mask | cells.is_null()
        kept = frame.filter(mask.fill_null(False))
        self.excluded += frame.height - kept.height
        return kept


def consent_check(vault: Vault, policy: Policy) -> Callable[[str, str, str], str]:
    """The guard's check for a call tagged with a data subject: their id, or :class:`AccessDenied` (audited)."""
    ledger = Consent(vault, policy, Subjects(vault, region=phone_region(policy.locale)))

    def check(identifier: str, purpose: str, actor: str) -> str:
        try:
            return ledger.check_identifier(identifier, purpose, actor=actor)
        except InputError:
            raise ConfigError("the data subject tag is not an e-mail address, phone number or id") from None

    return check


def consent_filter(vault: Vault, policy: Policy, purpose: str | None, column: str) -> ConsentFilter:
    """The row filter for a table run with ``--subject-column`` (it needs a purpose: consent is for one)."""
    if purpose is None:
        raise ConfigError("--subject-column needs --purpose: consent is given for a purpose")
    return ConsentFilter(Consent(vault, policy, Subjects(vault, region=phone_region(policy.locale))), purpose, column)

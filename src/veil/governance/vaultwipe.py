"""What the vault holds about a subject: the tokens of their values, and their keys.

A token is the subject's when its value is one of the subject's identifying values (the identifier, and the
e-mails, phone numbers and account numbers found in their rows) or when it was sealed under the subject's own key.
Erasure deletes those tokens (value, ciphertext and lookup hash: the vault can no longer even confirm the value was
seen) and shreds the subject's keys in every scope, so a pseudonym already in a log, a prompt or a training set
can never be restored again; the same value seen later gets a new token. Values many people share (names,
cities) are not matched: wiping them would make other subjects' tokens irreversible too.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, delete, select, update

from veil.storage.engine import write_tx
from veil.storage.schema import keys, tokens
from veil.vault import Vault

UNIQUE_ENTITIES = frozenset(
    {
        "EMAIL_ADDRESS",
        "PHONE_NUMBER",
        "US_SSN",
        "CREDIT_CARD",
        "IBAN_CODE",
        "US_PASSPORT",
        "US_DRIVER_LICENSE",
        "US_BANK_NUMBER",
        "US_ITIN",
        "UK_NHS",
        "MEDICAL_RECORD_NUMBER",
        "ACCOUNT_NUMBER",
    }
)
_CHUNK = 500


def _pairs(vault: Vault) -> list[tuple[str, str]]:
    with vault.engine.connect() as conn:
        rows = conn.execute(select(tokens.c.scope, tokens.c.entity).distinct()).all()
    return [(r.scope, r.entity) for r in rows if not r.scope.startswith("__veil_")]


def _conditions(vault: Vault, subject: str, values: set[str]) -> list[Any]:
    conds: list[Any] = [tokens.c.subject == subject]
    by_scope: dict[str, list[bytes]] = {}
    for scope, entity in _pairs(vault):
        by_scope.setdefault(scope, []).extend(vault.lookup_hash(scope, entity, v) for v in values)
    for scope, lookups in by_scope.items():
        for start in range(0, len(lookups), _CHUNK):
            conds.append(and_(tokens.c.scope == scope, tokens.c.lookup.in_(lookups[start : start + _CHUNK])))
    return conds


def subject_tokens(vault: Vault, subject: str, values: set[str], *, actor: str = "local") -> list[dict[str, str]]:
    """The subject's tokens with their originals (for an access bundle); audited as a detokenization."""
    found: dict[tuple[str, str], str] = {}
    with vault.engine.connect() as conn:
        for cond in _conditions(vault, subject, values):
            for r in conn.execute(select(tokens.c.scope, tokens.c.token, tokens.c.entity).where(cond)):
                found[(r.scope, r.token)] = r.entity
    out = []
    by_scope: dict[str, list[str]] = {}
    for scope, token in found:
        by_scope.setdefault(scope, []).append(token)
    for scope, toks in sorted(by_scope.items()):
        originals = vault.detokenize_many(scope, toks, actor=actor, purpose="dsar")
        for t in sorted(toks):
            out.append({"scope": scope, "entity": found[(scope, t)], "token": t, "value": originals.get(t, "")})
    return out


def wipe(vault: Vault, subject: str, values: set[str], *, actor: str = "local") -> dict[str, int]:
    """Delete the subject's tokens and shred the subject's keys; one transaction."""
    conds = _conditions(vault, subject, values)
    when = datetime.now(UTC)
    with write_tx(vault.engine) as conn:
        wiped = 0
        for cond in conds:
            wiped += conn.execute(delete(tokens).where(cond)).rowcount
        shredded = conn.execute(
            update(keys).where(keys.c.subject == subject, keys.c.shredded.is_(None)).values(wrapped=b"", shredded=when)
        ).rowcount
    vault.forget_cached(subject)
    vault.audit.append(actor, "vault.erase_subject", subject=subject, tokens=wiped, keys=shredded)
    return {"tokens_irreversible": wiped, "keys_shredded": shredded}

"""The consent ledger: every grant and withdrawal, with where it came from and the notice the subject saw.

Append-only (the database refuses UPDATE and DELETE on the table) and audited. A subject's state for a purpose is
its latest event; a restriction of processing (Art. 18, purpose ``*``) overrides every purpose until lifted.
``Consent.allowed`` is what enforcement points call: the anonymize-table filter, the guard, DP queries.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import func, insert, select

from veil.errors import AccessDenied, ConfigError
from veil.governance.subjects import Subjects, now
from veil.policy import Policy
from veil.storage.engine import write_tx
from veil.storage.schema import consent
from veil.vault import Vault

Action = Literal["grant", "withdraw", "restrict", "lift"]
ALL = "*"
_CHUNK = 500


@dataclass(frozen=True)
class Event:
    id: int
    subject: str
    purpose: str
    action: str
    at: str
    actor: str
    source: str
    notice_version: str
    notice_hash: str

    def to_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


def notice_hash(text: str) -> str:
    """SHA-256 of a consent notice's text: the proof of exactly what was shown."""
    return hashlib.sha256(text.encode()).hexdigest()


class Consent:
    def __init__(self, vault: Vault, policy: Policy, subjects: Subjects | None = None) -> None:
        self.vault = vault
        self.policy = policy
        self.subjects = subjects or Subjects(vault)

    def record(
        self,
        subject: str,
        purpose: str,
        action: Action,
        *,
        actor: str = "local",
        source: str = "",
        notice_version: str = "",
        notice_text: str | None = None,
    ) -> Event:
        """Append one event for a registered subject id; the purpose must be the policy's (or ``*``)."""
        if purpose != ALL:
            self.policy.purpose(purpose)
        if action in ("grant", "withdraw") and purpose == ALL:
            raise ConfigError("consent is given or withdrawn for one purpose, not for '*'")
        if len(source) > 200 or len(notice_version) > 100:
            raise ConfigError("source must be at most 200 characters and notice version at most 100")
        digest = notice_hash(notice_text) if notice_text is not None else ""
        row = {
            "subject": subject,
            "purpose": purpose,
            "action": action,
            "at": now(),
            "actor": actor,
            "source": source,
            "notice_version": notice_version,
            "notice_hash": digest,
        }
        with write_tx(self.vault.engine) as conn:
            new_id = conn.execute(insert(consent).values(**row).returning(consent.c.id)).scalar_one()
        self.vault.audit.append(
            actor,
            f"consent.{action}",
            subject=subject,
            purpose=purpose,
            source=source,
            notice_version=notice_version,
            notice_hash=digest,
        )
        return Event(id=int(new_id), **row)

    def history(self, subject: str) -> list[Event]:
        with self.vault.engine.connect() as conn:
            rows = conn.execute(select(consent).where(consent.c.subject == subject).order_by(consent.c.id)).all()
        return [Event(**{k: v for k, v in r._mapping.items()}) for r in rows]

    def state(self, subject: str) -> dict[str, str]:
        """Latest action per purpose (``*``: restricted or lifted)."""
        return {e.purpose: e.action for e in self.history(subject)}

    def has(self, subject: str, purpose: str) -> bool:
        return subject in self.allowed([subject], purpose)

    def latest(self, purpose: str, subject_ids: list[str] | None = None) -> dict[tuple[str, str], str]:
        """The latest action per (subject, purpose) for ``purpose`` and restrictions (``*``): of the subjects
        given, or of every subject (one read, for a table run)."""
        found: dict[tuple[str, str], str] = {}
        stmt = select(consent.c.subject, consent.c.purpose, consent.c.action).where(
            consent.c.purpose.in_([purpose, ALL])
        )
        chunks = [None] if subject_ids is None else [
            subject_ids[i : i + _CHUNK] for i in range(0, len(subject_ids), _CHUNK)
        ]  # fmt: skip
        with self.vault.engine.connect() as conn:
            for chunk in chunks:
                query = stmt if chunk is None else stmt.where(consent.c.subject.in_(chunk))
                for r in conn.execute(query.order_by(consent.c.id)):
                    found[(r.subject, r.purpose)] = r.action
        return found

    @staticmethod
    def decide(latest: dict[tuple[str, str], str], sid: str, purpose: str, needs_consent: bool) -> bool:
        """Whether a subject may be processed: not restricted, and with a standing grant when the purpose's legal
        basis is consent."""
        if latest.get((sid, ALL)) == "restrict":
            return False
        return latest.get((sid, purpose)) == "grant" if needs_consent else True

    def allowed(self, subject_ids: Iterable[str], purpose: str) -> set[str]:
        """The subjects that may be processed for ``purpose`` (see :meth:`decide`)."""
        wanted = list(dict.fromkeys(subject_ids))
        need = self.policy.purpose(purpose).needs_consent
        latest = self.latest(purpose, wanted)
        return {sid for sid in wanted if self.decide(latest, sid, purpose, need)}

    def latest_counts(self) -> dict[str, dict[str, int]]:
        """Per purpose, how many subjects' latest event is each action (records of processing, the dashboard)."""
        last = select(func.max(consent.c.id)).group_by(consent.c.subject, consent.c.purpose)
        with self.vault.engine.connect() as conn:
            rows = conn.execute(
                select(consent.c.purpose, consent.c.action, func.count())
                .where(consent.c.id.in_(last))
                .group_by(consent.c.purpose, consent.c.action)
            ).all()
        out: dict[str, dict[str, int]] = {}
        for purpose, action, n in rows:
            out.setdefault(purpose, {})[action] = int(n)
        return out

    def check_identifier(self, identifier: str, purpose: str, *, actor: str = "local") -> str:
        """The subject id of ``identifier`` if it may be processed for ``purpose``; refused and audited if not."""
        sid = self.subjects.subject_id(identifier)
        if sid not in self.allowed([sid], purpose):
            self.vault.audit.append(actor, "consent.check", result="denied", subject=sid, purpose=purpose)
            raise AccessDenied(f"the data subject has not consented to purpose '{purpose}' (or restricted processing)")
        return sid

"""Data subjects: known by a keyed hash of one identifier (an e-mail, a phone number, a customer id).

``sub_<hex>`` is an HMAC of the identifier's kind and normalized form under a vault key, so the same person
always gets the same id and the id alone reveals nothing. The identifier itself is sealed under the subject's
own data key; erasure shreds that key, after which the vault cannot say who the subject was.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

import phonenumbers
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError as SAIntegrityError

from veil.errors import ConfigError, InputError, KeyShredded
from veil.storage.engine import write_tx
from veil.storage.schema import subjects
from veil.vault import Vault

SUBJECT_SCOPE = "__veil_subjects__"
Kind = Literal["email", "phone", "id"]
KINDS: tuple[Kind, ...] = ("email", "phone", "id")


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def event(name: str, by: str, note: str = "") -> dict[str, str]:
    """One entry of a request's or a breach's timeline."""
    return {"at": now(), "event": name, "by": by, "note": note}


def kind_of(identifier: str) -> Kind:
    """What an identifier is: an e-mail (has an @), a phone number (parses as one), else an id."""
    text = identifier.strip()
    if "@" in text:
        return "email"
    if sum(c.isdigit() for c in text) >= 7 and set(text) <= set("+0123456789 ()-./"):
        return "phone"
    return "id"


def normalize(identifier: str, kind: Kind, region: str = "US") -> str:
    text = identifier.strip()
    if not text or len(text) > 320:
        raise InputError("a subject identifier must be 1..320 characters")
    if kind == "email":
        if text.count("@") != 1 or text.startswith("@") or text.endswith("@"):
            raise InputError("the subject identifier is not an e-mail address")
        return text.lower()
    if kind == "phone":
        try:
            number = phonenumbers.parse(text, region)
        except phonenumbers.NumberParseException:
            raise InputError("the subject identifier is not a phone number") from None
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return text


@dataclass(frozen=True)
class Subject:
    id: str
    kind: Kind
    created: str
    erased: str | None = None
    generation: int = 0

    @property
    def key_name(self) -> str:
        """The vault subject whose key seals the identifier: a subject erased and back later gets a new key."""
        return self.id if not self.generation else f"{self.id}.{self.generation}"


class Subjects:
    """The subject registry on the vault database."""

    def __init__(self, vault: Vault, *, region: str = "US") -> None:
        self.vault = vault
        self.region = region
        self._key = vault.scope_keys(SUBJECT_SCOPE).lookup

    def subject_id(self, identifier: str, kind: Kind | None = None) -> str:
        k = kind or kind_of(identifier)
        value = normalize(identifier, k, self.region)
        return "sub_" + hmac.digest(self._key, f"{k}\x1f{value}".encode(), "sha256").hex()[:32]

    def ids(self, identifiers: list[str]) -> list[str | None]:
        """Subject ids of many identifiers (None where a value is not a usable identifier)."""
        out: list[str | None] = []
        for value in identifiers:
            try:
                out.append(self.subject_id(value))
            except InputError:
                out.append(None)
        return out

    def register(self, identifier: str, kind: Kind | None = None) -> Subject:
        """The subject of ``identifier``, created (identifier sealed under its own key) on first use."""
        k = kind or kind_of(identifier)
        sid = self.subject_id(identifier, k)
        found = self.get(sid)
        if found is not None and not found.erased:
            return found
        value = normalize(identifier, k, self.region).encode()
        if found is not None:  # erased once and back (a new consent, a new request): a new key seals it
            back = Subject(sid, k, found.created, None, found.generation + 1)
            sealed = self.vault.scope_keys(SUBJECT_SCOPE, back.key_name).encrypt(value, sid.encode())
            with write_tx(self.vault.engine) as conn:
                conn.execute(
                    update(subjects)
                    .where(subjects.c.id == sid, subjects.c.generation == found.generation)
                    .values(identifier=sealed, erased=None, generation=back.generation)
                )
        else:
            sealed = self.vault.scope_keys(SUBJECT_SCOPE, sid).encrypt(value, sid.encode())
            try:
                with write_tx(self.vault.engine) as conn:
                    conn.execute(insert(subjects).values(id=sid, kind=k, identifier=sealed, created=now()))
            except SAIntegrityError:  # registered concurrently
                pass
        got = self.get(sid)
        assert got is not None
        return got

    def find(self, identifier: str, kind: Kind | None = None) -> Subject:
        """A registered subject; an error naming no value when the identifier is unknown."""
        got = self.get(self.subject_id(identifier, kind))
        if got is None:
            raise InputError("unknown data subject: no consent or request was ever recorded for this identifier")
        return got

    def get(self, sid: str) -> Subject | None:
        with self.vault.engine.connect() as conn:
            row = conn.execute(select(subjects).where(subjects.c.id == sid)).first()
        return None if row is None else Subject(row.id, row.kind, row.created, row.erased, row.generation)

    def resolve(self, ref: str) -> Subject:
        """A subject named by its id (``sub_...``) or by an identifier."""
        if ref.startswith("sub_"):
            got = self.get(ref)
            if got is None:
                raise InputError(f"unknown data subject {ref}")
            return got
        return self.find(ref)

    def identifier(self, sid: str) -> str:
        """The subject's identifier in clear; :class:`KeyShredded` once the subject was erased."""
        with self.vault.engine.connect() as conn:
            row = conn.execute(select(subjects).where(subjects.c.id == sid)).first()
        if row is None:
            raise InputError(f"unknown data subject {sid}")
        if row.identifier is None or row.erased:
            raise KeyShredded(f"subject {sid} was erased: its identifier no longer exists")
        subject = Subject(row.id, row.kind, row.created, row.erased, row.generation)
        keys = self.vault.scope_keys(SUBJECT_SCOPE, subject.key_name)
        return keys.decrypt(bytes(row.identifier), sid.encode()).decode()

    def forget(self, sid: str, *, actor: str = "local") -> None:
        """Shred the subject's key and drop the sealed identifier; the id stays (it names the erased subject)."""
        subject = self.get(sid)
        if subject is None:
            raise ConfigError("not a subject id")
        self.vault.shred(SUBJECT_SCOPE, subject.key_name, actor=actor)
        with write_tx(self.vault.engine) as conn:
            conn.execute(update(subjects).where(subjects.c.id == sid).values(identifier=None, erased=now()))

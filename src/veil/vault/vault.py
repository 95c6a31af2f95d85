"""The vault: data keys per scope (and subject), the token store, keyed hashing and encryption."""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, and_, insert, select, update
from sqlalchemy.exc import DatabaseError, OperationalError
from sqlalchemy.exc import IntegrityError as SAIntegrityError

from veil.errors import ConfigError, IntegrityError, KeyShredded, VaultError
from veil.storage.engine import default_url, open_engine, write_tx
from veil.storage.migrate import upgrade
from veil.storage.schema import counters, keys, tokens
from veil.vault.anchor import Anchor, anchor_path
from veil.vault.audit import AuditLog
from veil.vault.formats import TokenFormat
from veil.vault.keys import MasterKey, ScopeKeys, load_master_key, load_previous_keys

log = logging.getLogger(__name__)
_BATCH = 500
AUDIT_SCOPE = "__veil_audit__"
_SEP = b"\x1f"


def _dek_aad(scope: str, subject: str) -> bytes:
    """Associated data binding a wrapped data key to its scope and subject."""
    return b"veil-dek" + _SEP + scope.encode() + _SEP + subject.encode()


class Vault:
    """Envelope-encrypted token store and key service on SQLite (default) or PostgreSQL."""

    def __init__(
        self,
        url: str | None = None,
        *,
        master_key: MasterKey | None = None,
        previous_keys: Sequence[MasterKey] | None = None,
        cache_size: int = 200_000,
    ):
        self.url = url or default_url()
        self.engine: Engine = open_engine(self.url)
        self.master = master_key or load_master_key(create=self.url.startswith("sqlite"))
        self.previous = list(previous_keys if previous_keys is not None else load_previous_keys())
        try:
            upgrade(self.engine)
        except OperationalError as exc:
            raise VaultError(f"cannot open the vault database {self.url}: {exc.orig}") from None
        except DatabaseError:
            raise VaultError(
                f"{self.url}: not a Veil vault (not a database, or a corrupt or truncated one)",
                hint="restore it from a backup, or point VEIL_DB / --vault at the right file",
            ) from None
        self._scope_keys: dict[tuple[str, str], ScopeKeys] = {}
        self._cache: OrderedDict[tuple[str, bytes], str] = OrderedDict()
        self._cache_size = cache_size

    @property
    def audit(self) -> AuditLog:
        """The tamper-evident log; its key is a vault data key, so it survives master-key rotation."""
        key = self.scope_keys(AUDIT_SCOPE).hashing
        vault_id = hashlib.sha256(b"veil-vault-id" + key).hexdigest()[:16]
        masters = [k.key for k in (self.master, *self.previous)]
        return AuditLog(self.engine, key, Anchor(anchor_path(self.url), vault_id, masters))

    def _kek(self, kek_id: str) -> MasterKey:
        for key in (self.master, *self.previous):
            if key.kek_id == kek_id:
                return key
        raise IntegrityError(
            f"a data key is wrapped by master key {kek_id}, which is neither the current nor a previous one",
            hint="set VEIL_MASTER_KEY_PREVIOUS to the old key while a rotation is under way",
        )

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Vault:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- keys ---------------------------------------------------------------------------------------------
    def scope_keys(self, scope: str, subject: str = "") -> ScopeKeys:
        """The derived keys of ``scope`` (and ``subject``); the data key is created on first use."""
        cached = self._scope_keys.get((scope, subject))
        if cached is not None:
            return cached
        if not scope or len(scope) > 200 or len(subject) > 200:
            raise ConfigError("a scope must be 1..200 characters and a subject at most 200")
        aad = _dek_aad(scope, subject)
        for _ in range(5):
            with write_tx(self.engine) as conn:
                row = conn.execute(
                    select(keys.c.wrapped, keys.c.shredded, keys.c.kek_id).where(
                        keys.c.scope == scope, keys.c.subject == subject
                    )
                ).first()
                if row is None:
                    dek = MasterKey.generate()
                    try:
                        with conn.begin_nested():  # a lost race must not abort the whole transaction
                            conn.execute(
                                insert(keys).values(
                                    scope=scope,
                                    subject=subject,
                                    kek_id=self.master.kek_id,
                                    wrapped=self.master.wrap(dek, aad),
                                )
                            )
                    except SAIntegrityError:
                        continue  # created concurrently: read it back
                    break
                if row.shredded is not None:
                    raise KeyShredded(f"the key of subject '{subject}' in scope '{scope}' was shredded")
                dek = self._kek(row.kek_id).unwrap(row.wrapped, aad)
                break
        else:  # pragma: no cover - five lost races in a row
            raise VaultError(f"could not create the data key of scope '{scope}'")
        derived = ScopeKeys.derive(dek)
        self._scope_keys[(scope, subject)] = derived
        return derived

    def lookup_hash(self, scope: str, entity: str, value: str) -> bytes:
        key = self.scope_keys(scope).lookup
        return hmac.digest(key, entity.encode() + _SEP + value.encode("utf-8", "surrogatepass"), "sha256")

    def keyed_hash(self, scope: str, data: bytes) -> bytes:
        """HMAC-SHA256 of ``data`` under the scope's hashing key (the hash operator, consistent fakes)."""
        return hmac.digest(self.scope_keys(scope).hashing, data, "sha256")

    def keyed_hashes(self, scope: str, items: Sequence[bytes]) -> list[bytes]:
        """:meth:`keyed_hash` of many items (one key lookup; OpenSSL's one-shot HMAC)."""
        key = self.scope_keys(scope).hashing
        return [hmac.digest(key, data, "sha256") for data in items]

    # -- tokens -------------------------------------------------------------------------------------------
    def tokenize(self, scope: str, entity: str, value: str, fmt: TokenFormat | None = None, subject: str = "") -> str:
        return self.tokenize_many(scope, [(entity, value)], fmt, subject=subject)[0]

    def tokenize_many(
        self,
        scope: str,
        items: Sequence[tuple[str, str]],
        fmt: TokenFormat | dict[str, TokenFormat] | None = None,
        *,
        subject: str = "",
    ) -> list[str]:
        """One token per ``(entity, value)``; the same pair always gets the same token in a scope."""
        formats = fmt if isinstance(fmt, dict) else {}
        default = fmt if isinstance(fmt, TokenFormat) else TokenFormat()
        lookups = [self.lookup_hash(scope, entity, value) for entity, value in items]
        result: dict[bytes, str] = {}
        todo: dict[bytes, tuple[str, str]] = {}
        for (entity, value), lk in zip(items, lookups, strict=True):
            hit = self._cache.get((scope, lk))
            if hit is not None:
                result[lk] = hit
            else:
                todo.setdefault(lk, (entity, value))
        if todo:
            for attempt in range(8):
                try:
                    result.update(self._store(scope, todo, formats, default, subject))
                    break
                except SAIntegrityError:
                    if attempt == 7:
                        raise VaultError("could not store tokens: too many concurrent conflicts") from None
            for lk in todo:
                self._remember(scope, lk, result[lk])
        return [result[lk] for lk in lookups]

    def _store(
        self,
        scope: str,
        todo: dict[bytes, tuple[str, str]],
        formats: dict[str, TokenFormat],
        default: TokenFormat,
        subject: str,
    ) -> dict[bytes, str]:
        out: dict[bytes, str] = {}
        value_keys = self.scope_keys(scope, subject)
        with write_tx(self.engine) as conn:
            pending = list(todo)
            for start in range(0, len(pending), _BATCH):
                chunk = pending[start : start + _BATCH]
                rows = conn.execute(
                    select(tokens.c.lookup, tokens.c.token).where(tokens.c.scope == scope, tokens.c.lookup.in_(chunk))
                )
                out.update({bytes(r.lookup): r.token for r in rows})
            missing = [lk for lk in pending if lk not in out]
            if not missing:
                return out
            by_entity: dict[str, list[bytes]] = {}
            for lk in missing:
                by_entity.setdefault(todo[lk][0], []).append(lk)
            new_rows = []
            for entity, lks in by_entity.items():
                tf = formats.get(entity, default)
                first = self._reserve(conn, scope, entity, len(lks)) if tf.sequential else 0
                for i, lk in enumerate(lks):
                    token = tf.render(entity, first + i, lk.hex())
                    value = todo[lk][1].encode("utf-8", "surrogatepass")
                    blob = value_keys.encrypt(value, scope.encode() + _SEP + token.encode())
                    new_rows.append(
                        {
                            "scope": scope,
                            "entity": entity,
                            "token": token,
                            "lookup": lk,
                            "subject": subject,
                            "ciphertext": blob,
                        }
                    )
                    out[lk] = token
            for start in range(0, len(new_rows), _BATCH):
                conn.execute(insert(tokens), new_rows[start : start + _BATCH])
        return out

    @staticmethod
    def _reserve(conn: Connection, scope: str, entity: str, count: int) -> int:
        """Reserve ``count`` sequence numbers; returns the first."""
        cond = and_(counters.c.scope == scope, counters.c.entity == entity)
        bump = update(counters).where(cond).values(value=counters.c.value + count).returning(counters.c.value)
        row = conn.execute(bump).first()
        if row is None:
            try:
                with conn.begin_nested():
                    conn.execute(insert(counters).values(scope=scope, entity=entity, value=count))
                return 1
            except SAIntegrityError:
                row = conn.execute(bump).first()
                assert row is not None
        return int(row.value) - count + 1

    def _remember(self, scope: str, lookup: bytes, token: str) -> None:
        self._cache[(scope, lookup)] = token
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)

    def detokenize_many(
        self, scope: str, token_values: Iterable[str], *, actor: str = "local", purpose: str = "", audit: bool = True
    ) -> dict[str, str]:
        """Original values of known tokens; unknown tokens and tokens of shredded subjects are left out.

        A privileged action: every call is written to the audit log (counts only, never values), unless the
        caller writes its own record for the same action (``audit=False``: the guard records each model call).
        """
        wanted = list(dict.fromkeys(token_values))
        out = self._detokenize(scope, wanted)
        if wanted and audit:
            self.audit.append(
                actor, "detokenize", scope=scope, purpose=purpose, requested=len(wanted), restored=len(out)
            )
        return out

    def _detokenize(self, scope: str, wanted: list[str]) -> dict[str, str]:
        rows: list[Any] = []
        with self.engine.connect() as conn:
            for start in range(0, len(wanted), _BATCH):
                rows.extend(
                    conn.execute(
                        select(tokens.c.token, tokens.c.subject, tokens.c.ciphertext).where(
                            tokens.c.scope == scope, tokens.c.token.in_(wanted[start : start + _BATCH])
                        )
                    ).all()
                )
        out: dict[str, str] = {}
        for r in rows:
            if r.ciphertext is None:
                continue
            try:
                k = self.scope_keys(scope, r.subject)
            except KeyShredded:
                continue  # shredded subject: irreversible by design
            aad = scope.encode() + _SEP + r.token.encode()
            out[r.token] = k.decrypt(bytes(r.ciphertext), aad).decode("utf-8", "surrogatepass")
        return out

    def shred(self, scope: str, subject: str, *, actor: str = "local") -> int:
        """Crypto-shredding: destroy the subject's data key; returns how many tokens became irreversible."""
        if not subject:
            raise ConfigError("shred needs a subject (the scope key itself is never shredded this way)")
        with write_tx(self.engine) as conn:
            n = conn.execute(
                update(keys)
                .where(keys.c.scope == scope, keys.c.subject == subject, keys.c.shredded.is_(None))
                .values(wrapped=b"", shredded=datetime.now(UTC))
            ).rowcount
            count = conn.execute(select(tokens.c.id).where(tokens.c.scope == scope, tokens.c.subject == subject)).all()
        self._scope_keys.pop((scope, subject), None)
        self._cache.clear()
        self.audit.append(actor, "shred", scope=scope, subject=subject, keys=n, tokens=len(count))
        log.info("shredded %d key(s) of subject %s in scope %s", n, subject, scope)
        return len(count)

    def forget_cached(self, subject: str) -> None:
        """Drop cached tokens and the subject's cached keys (after governance deleted tokens or shredded keys)."""
        self._cache.clear()
        self._scope_keys = {k: v for k, v in self._scope_keys.items() if k[1] != subject}

    def rotate(self, new_master: MasterKey, *, actor: str = "local") -> int:
        """Re-wrap every data key under ``new_master`` in one transaction; data is not re-encrypted.

        Tokens and ciphertexts stay readable. Processes that still hold the old key keep working when it is
        given to them as a previous key (``VEIL_MASTER_KEY_PREVIOUS``) until they restart with the new one.
        """
        if new_master.kek_id == self.master.kek_id:
            raise ConfigError("the new master key is the current one")
        count = 0
        with write_tx(self.engine) as conn:
            rows = conn.execute(
                select(keys.c.id, keys.c.scope, keys.c.subject, keys.c.kek_id, keys.c.wrapped).where(
                    keys.c.shredded.is_(None)
                )
            ).all()
            for r in rows:
                aad = _dek_aad(r.scope, r.subject)
                dek = self._kek(r.kek_id).unwrap(r.wrapped, aad)
                conn.execute(
                    update(keys)
                    .where(keys.c.id == r.id)
                    .values(wrapped=new_master.wrap(dek, aad), kek_id=new_master.kek_id, rotated=datetime.now(UTC))
                )
                count += 1
        self.previous = [self.master, *self.previous]
        self.master = new_master
        self.audit.append(actor, "keys.rotate", keys=count, new_kek=new_master.kek_id)
        return count

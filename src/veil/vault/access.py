"""Access control: roles with permissions, purposes and per-entity visibility; API keys; TOTP.

* A role lists permissions (``tokenize``, ``detokenize``, ``detokenize:masked``, ``export``, ``erase``,
  ``keys:rotate``, ``audit:read``, ``admin``), the purposes it may act for (none listed: any), and per-entity
  visibility: ``full``, ``masked`` (a support role sees ``*******0173``) or ``none``.
* A principal has one role and an API key ``veil_<id>_<secret>``: the id finds the record, the secret is
  checked against its argon2 hash. Privileged permissions need a TOTP code as well (RFC 6238, pyotp); a code
  is accepted once (replay refused) within a +-1 step window.
* Every authorization decision on a privileged action, granted or refused, is written to the audit log.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, Table, insert, select, update

from veil.errors import AccessDenied, ConfigError
from veil.storage.engine import write_tx
from veil.storage.schema import principals, roles, tokens
from veil.transform.base import TransformContext
from veil.transform.mask import Mask
from veil.vault.vault import Vault

PERMISSIONS = frozenset(
    {"tokenize", "detokenize", "detokenize:masked", "guard", "governance", "export", "erase", "keys:rotate",
     "audit:read", "admin"}
)
PRIVILEGED = frozenset({"detokenize", "export", "erase", "keys:rotate", "audit:read", "admin"})
VISIBILITY = frozenset({"full", "masked", "none"})
ACCESS_SCOPE = "__veil_access__"
_HASHER = PasswordHasher()
_MASK = Mask({"keep_last": 4})


@dataclass(frozen=True)
class Role:
    name: str
    permissions: frozenset[str]
    purposes: frozenset[str] = frozenset()
    entities: Mapping[str, str] = field(default_factory=dict)
    scope: str | None = None  # pseudonym scope of the role's principals (None: the policy's)

    def allows(self, permission: str) -> bool:
        return "admin" in self.permissions or permission in self.permissions

    def visibility(self, entity: str) -> str:
        return self.entities.get(entity, "full")


@dataclass(frozen=True)
class Session:
    """An authenticated principal; ``mfa`` is True when a valid TOTP code was given."""

    principal: str
    role: Role
    mfa: bool


def _refuse_existing(conn: Connection, table: Table, kind: str, name: str) -> None:
    if conn.execute(select(table.c.name).where(table.c.name == name)).first():
        raise ConfigError(f"{kind} '{name}' exists")


_ORDER = {"none": 0, "masked": 1, "full": 2}


class AccessControl:
    """``classify`` names every entity type a value may be (``veil.detect.plausible.plausible_entities``): with it,
    a value shows as the most restrictive visibility among its stored type and those types, so an SSN the detector
    typed PHONE_NUMBER stays hidden from a role that may not see SSNs."""

    def __init__(self, vault: Vault, *, classify: Callable[[str], Iterable[str]] | None = None) -> None:
        self.vault = vault
        self.classify = classify

    # -- administration ----------------------------------------------------------------------------------
    def create_role(
        self,
        name: str,
        permissions: Iterable[str],
        *,
        purposes: Iterable[str] = (),
        entities: Mapping[str, str] | None = None,
        scope: str | None = None,
        actor: str = "admin",
    ) -> Role:
        perms = frozenset(permissions)
        unknown = perms - PERMISSIONS
        if unknown:
            raise ConfigError(f"unknown permission(s) {sorted(unknown)}; known: {', '.join(sorted(PERMISSIONS))}")
        ents = dict(entities or {})
        bad = {e: v for e, v in ents.items() if v not in VISIBILITY}
        if bad:
            raise ConfigError(f"entity visibility must be one of {sorted(VISIBILITY)}: {bad}")
        if not name or len(name) > 100:
            raise ConfigError("a role name must be 1..100 characters")
        if scope is not None and not 1 <= len(scope) <= 200:
            raise ConfigError("a role's scope must be 1..200 characters")
        role = Role(name, perms, frozenset(purposes), ents, scope)
        with write_tx(self.vault.engine) as conn:
            _refuse_existing(conn, roles, "role", name)
            conn.execute(
                insert(roles).values(
                    name=name,
                    permissions=json.dumps(sorted(perms)),
                    purposes=json.dumps(sorted(role.purposes)),
                    entities=json.dumps(ents, sort_keys=True),
                    scope=scope,
                )
            )
        self.vault.audit.append(actor, "role.create", role=name, permissions=sorted(perms), scope=scope or "")
        return role

    def role(self, name: str) -> Role:
        with self.vault.engine.connect() as conn:
            row = conn.execute(select(roles).where(roles.c.name == name)).first()
        if row is None:
            raise ConfigError(f"unknown role '{name}'")
        return Role(
            row.name,
            frozenset(json.loads(row.permissions)),
            frozenset(json.loads(row.purposes)),
            json.loads(row.entities),
            row.scope,
        )

    def roles(self) -> list[Role]:
        with self.vault.engine.connect() as conn:
            names = [r.name for r in conn.execute(select(roles.c.name).order_by(roles.c.name))]
        return [self.role(n) for n in names]

    def create_principal(
        self, name: str, role: str, *, totp: bool = True, actor: str = "admin"
    ) -> tuple[str, str | None]:
        """Returns the API key (shown once) and the TOTP provisioning URI (for an authenticator app)."""
        self.role(role)
        key_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        totp_secret = pyotp.random_base32() if totp else None
        sealed = None
        if totp_secret:
            sealed = self.vault.scope_keys(ACCESS_SCOPE).encrypt(totp_secret.encode(), name.encode())
        with write_tx(self.vault.engine) as conn:
            _refuse_existing(conn, principals, "principal", name)
            conn.execute(
                insert(principals).values(
                    name=name,
                    role=role,
                    key_id=key_id,
                    key_hash=_HASHER.hash(secret),
                    totp_secret=sealed,
                    totp_last_step=0,
                )
            )
        self.vault.audit.append(actor, "principal.create", principal=name, role=role, totp=bool(totp))
        uri = pyotp.TOTP(totp_secret).provisioning_uri(name=name, issuer_name="Veil") if totp_secret else None
        return f"veil_{key_id}_{secret}", uri

    def has_principals(self) -> bool:
        with self.vault.engine.connect() as conn:
            return conn.execute(select(principals.c.name).limit(1)).first() is not None

    def disable(self, name: str, *, actor: str = "admin") -> None:
        with write_tx(self.vault.engine) as conn:
            n = conn.execute(update(principals).where(principals.c.name == name).values(disabled=datetime.now(UTC)))
            if not n.rowcount:
                raise ConfigError(f"unknown principal '{name}'")
        self.vault.audit.append(actor, "principal.disable", principal=name)

    # -- authentication ----------------------------------------------------------------------------------
    def authenticate(self, api_key: str, totp_code: str | None = None, *, at: datetime | None = None) -> Session:
        parts = api_key.split("_", 2)
        if len(parts) != 3 or parts[0] != "veil":
            raise AccessDenied("malformed API key")
        with self.vault.engine.connect() as conn:
            row = conn.execute(select(principals).where(principals.c.key_id == parts[1])).first()
        try:
            ok = row is not None and _HASHER.verify(row.key_hash, parts[2])
        except (VerificationError, InvalidHashError):
            ok = False
        if not ok or row is None:
            self.vault.audit.append("unknown", "authenticate", result="denied", reason="bad API key")
            raise AccessDenied("invalid API key")
        if row.disabled is not None:
            self.vault.audit.append(row.name, "authenticate", result="denied", reason="disabled")
            raise AccessDenied(f"principal '{row.name}' is disabled")
        mfa = False
        if totp_code is not None:
            mfa = self._check_totp(row, totp_code, at or datetime.now(UTC))
        return Session(row.name, self.role(row.role), mfa)

    def recheck(self, session: Session, api_key: str) -> Session:
        """A session whose key was verified before, brought up to date without a new argon2 check (for caches):
        refused when the principal was disabled or deleted or its key replaced; its role is read again."""
        parts = api_key.split("_", 2)
        with self.vault.engine.connect() as conn:
            row = conn.execute(select(principals).where(principals.c.name == session.principal)).first()
        if row is None or len(parts) != 3 or row.key_id != parts[1]:
            raise AccessDenied("invalid API key")
        if row.disabled is not None:
            raise AccessDenied(f"principal '{row.name}' is disabled")
        return Session(row.name, self.role(row.role), session.mfa)

    def _check_totp(self, row: object, code: str, at: datetime) -> bool:
        name = getattr(row, "name")  # noqa: B009 - a SQLAlchemy Row
        sealed = getattr(row, "totp_secret")  # noqa: B009
        if sealed is None:
            raise AccessDenied(f"principal '{name}' has no TOTP secret")
        secret = self.vault.scope_keys(ACCESS_SCOPE).decrypt(bytes(sealed), name.encode()).decode()
        totp = pyotp.TOTP(secret)
        step_now = totp.timecode(at)
        step = next((step_now + d for d in (0, -1, 1) if totp.generate_otp(step_now + d) == code.strip()), None)
        if step is None:
            self.vault.audit.append(name, "authenticate", result="denied", reason="wrong TOTP code")
            raise AccessDenied("wrong TOTP code")
        with write_tx(self.vault.engine) as conn:  # accept each code once: the step must move forward
            n = conn.execute(
                update(principals)
                .where(principals.c.name == name, principals.c.totp_last_step < step)
                .values(totp_last_step=step)
            )
        if not n.rowcount:
            self.vault.audit.append(name, "authenticate", result="denied", reason="TOTP code replayed")
            raise AccessDenied("this TOTP code was already used")
        return True

    # -- authorization -----------------------------------------------------------------------------------
    def authorize(self, session: Session, permission: str, *, purpose: str = "", scope: str = "") -> None:
        """Refuse (and audit) unless the role allows ``permission`` for ``purpose``, with MFA if privileged."""
        role = session.role
        reason = ""
        if not role.allows(permission):
            reason = f"role '{role.name}' lacks '{permission}'"
        elif role.purposes and purpose not in role.purposes:
            reason = f"role '{role.name}' may not act for purpose '{purpose or '(none)'}'"
        elif permission in PRIVILEGED and not session.mfa:
            reason = f"'{permission}' needs a TOTP code"
        if reason:
            self.vault.audit.append(
                session.principal, permission, result="denied", scope=scope, purpose=purpose, reason=reason
            )
            raise AccessDenied(reason)

    def detokenize(
        self, session: Session, scope: str, token_values: Iterable[str], *, purpose: str = ""
    ) -> dict[str, str]:
        """Originals the session may see: full, masked (role rule or ``detokenize:masked``) or left out."""
        wanted = list(dict.fromkeys(token_values))
        full = session.role.allows("detokenize")
        self.authorize(session, "detokenize" if full else "detokenize:masked", purpose=purpose, scope=scope)
        with self.vault.engine.connect() as conn:
            query = select(tokens.c.token, tokens.c.entity).where(tokens.c.scope == scope, tokens.c.token.in_(wanted))
            entity_of = {r.token: r.entity for r in conn.execute(query)}
        values = self.vault.detokenize_many(scope, wanted, actor=session.principal, purpose=purpose)
        out: dict[str, str] = {}
        ctx = TransformContext()
        for token, value in values.items():
            types = {entity_of.get(token, ""), *(self.classify(value) if self.classify is not None else ())}
            seen = min((session.role.visibility(t) for t in types), key=_ORDER.__getitem__)
            if seen == "none":
                continue
            out[token] = value if (seen == "full" and full) else _MASK.apply_many([value], "", ctx)[0]
        return out

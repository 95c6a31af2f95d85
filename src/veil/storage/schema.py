"""Vault tables (SQLAlchemy Core). Values are never stored in plain: only ciphertexts and keyed hashes."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    func,
)

metadata = MetaData()

# Data-encryption keys, one per scope (and per data subject when tokens name one), wrapped by the KEK.
keys = Table(
    "veil_keys",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("scope", String(200), nullable=False),
    Column("subject", String(200), nullable=False, default=""),
    Column("kek_id", String(32), nullable=False),
    Column("wrapped", LargeBinary, nullable=False),
    Column("created", DateTime(timezone=True), server_default=func.now(), nullable=False),
    Column("rotated", DateTime(timezone=True), nullable=True),
    Column("shredded", DateTime(timezone=True), nullable=True),
    UniqueConstraint("scope", "subject", name="uq_keys_scope_subject"),
)

# Pseudonym <-> original value. `lookup` is an HMAC of (entity, value) under the scope key: equality search
# without the plain value; `ciphertext` is the value under the subject's (or scope's) key. The unique indexes
# lead with `lookup` and `token`, the columns batches search with IN (...), so a search stays an index probe.
tokens = Table(
    "veil_tokens",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("scope", String(200), nullable=False),
    Column("entity", String(64), nullable=False),
    Column("token", String(200), nullable=False),
    Column("lookup", LargeBinary(32), nullable=False),
    Column("subject", String(200), nullable=False, default=""),
    Column("ciphertext", LargeBinary, nullable=True),
    Column("created", DateTime(timezone=True), server_default=func.now(), nullable=False),
    UniqueConstraint("lookup", "scope", name="uq_tokens_lookup_scope"),
    UniqueConstraint("token", "scope", name="uq_tokens_token_scope"),
)

# Sequence numbers for counter-style tokens (<PERSON_7>), per scope and entity.
counters = Table(
    "veil_counters",
    metadata,
    Column("scope", String(200), primary_key=True),
    Column("entity", String(64), primary_key=True),
    Column("value", BigInteger, nullable=False, default=0),
)

# Tamper-evident audit log: each record's `digest` is an HMAC (key derived from the master key) over the previous
# record's digest and this record's canonical JSON. No raw personal data goes into `details`.
audit = Table(
    "veil_audit",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("at", String(40), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("action", String(100), nullable=False),
    Column("scope", String(200), nullable=False, default=""),
    Column("subject", String(200), nullable=False, default=""),
    Column("purpose", String(200), nullable=False, default=""),
    Column("result", String(40), nullable=False),
    Column("details", String, nullable=False, default="{}"),
    Column("prev", LargeBinary(32), nullable=False),
    Column("digest", LargeBinary(32), nullable=False),
)

# Roles: permissions, allowed purposes (empty: any) and per-entity visibility ("full", "masked", "none").
roles = Table(
    "veil_roles",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("permissions", String, nullable=False, default="[]"),
    Column("purposes", String, nullable=False, default="[]"),
    Column("entities", String, nullable=False, default="{}"),
    Column("scope", String(200), nullable=True),  # the pseudonym scope of the role's principals (guard tenants)
)

# Principals: an API key (argon2 hash, found by its public id) and an encrypted TOTP secret.
principals = Table(
    "veil_principals",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("role", String(100), nullable=False),
    Column("key_id", String(32), nullable=False, unique=True),
    Column("key_hash", String(200), nullable=False),
    Column("totp_secret", LargeBinary, nullable=True),
    Column("totp_last_step", BigInteger, nullable=False, default=0),
    Column("disabled", DateTime(timezone=True), nullable=True),
    Column("created", DateTime(timezone=True), server_default=func.now(), nullable=False),
)

# Differential privacy: the total (epsilon, delta) a dataset may ever spend, and each release against it.
dp_budgets = Table(
    "veil_dp_budgets",
    metadata,
    Column("dataset", String(400), primary_key=True),
    Column("epsilon", Float, nullable=False),
    Column("delta", Float, nullable=False),
    Column("created", DateTime(timezone=True), server_default=func.now(), nullable=False),
)

dp_spends = Table(
    "veil_dp_spends",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("dataset", String(400), ForeignKey("veil_dp_budgets.dataset"), nullable=False),
    Column("at", String(40), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("query", String, nullable=False),
    Column("mechanism", String(100), nullable=False),
    Column("epsilon", Float, nullable=False),
    Column("delta", Float, nullable=False),
    Column("rho", Float, nullable=True),
    Index("ix_dp_spends_dataset", "dataset"),
)

# Governance. A data subject is known by a keyed hash of an identifier (`id`); the identifier itself is sealed
# under the subject's own data key (scope `__veil_subjects__`), which erasure shreds.
subjects = Table(
    "veil_subjects",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("kind", String(20), nullable=False),
    Column("identifier", LargeBinary, nullable=True),
    Column("created", String(40), nullable=False),
    Column("erased", String(40), nullable=True),
    Column("generation", Integer, nullable=False, default=0),  # +1 each time an erased subject comes back
)

# The consent ledger: append-only (the database refuses UPDATE and DELETE, see migration 0004). The notice's hash
# is the proof of what the subject was shown.
consent = Table(
    "veil_consent",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("subject", String(64), nullable=False),
    Column("purpose", String(200), nullable=False),
    Column("action", String(20), nullable=False),
    Column("at", String(40), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("source", String(200), nullable=False, default=""),
    Column("notice_version", String(100), nullable=False, default=""),
    Column("notice_hash", String(64), nullable=False, default=""),
    Index("ix_consent_subject_purpose", "subject", "purpose", "id"),
)

# Data-subject requests: state machine, deadline, per-source progress and evidence (JSON, no personal values).
requests = Table(
    "veil_requests",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("subject", String(64), nullable=False),
    Column("type", String(20), nullable=False),
    Column("status", String(20), nullable=False),
    Column("jurisdiction", String(10), nullable=False),
    Column("received", String(40), nullable=False),
    Column("due", String(40), nullable=False),
    Column("updated", String(40), nullable=False),
    Column("params", LargeBinary, nullable=True),  # sealed: a rectification's new value
    Column("progress", String, nullable=False, default="{}"),
    Column("timeline", String, nullable=False, default="[]"),
    Column("result", String, nullable=False, default="{}"),
    Index("ix_requests_status", "status"),
    Index("ix_requests_subject", "subject"),
)

breaches = Table(
    "veil_breaches",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("title", String(300), nullable=False),
    Column("status", String(20), nullable=False),
    Column("detected", String(40), nullable=False),
    Column("authority_due", String(40), nullable=False),
    Column("authority_notified", String(40), nullable=True),
    Column("closed", String(40), nullable=True),
    Column("facts", String, nullable=False, default="{}"),
    Column("timeline", String, nullable=False, default="[]"),
)

# The monitor's alerts (one row per detector, key and window: a replayed log never repeats an alert) and how far
# into the audit log it has read.
alerts = Table(
    "veil_alerts",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("kind", String(40), nullable=False),
    Column("key", String(300), nullable=False),
    Column("window", String(40), nullable=False),
    Column("at", String(40), nullable=False),
    Column("record", BigInteger().with_variant(Integer, "sqlite"), nullable=False),
    Column("severity", String(10), nullable=False),
    Column("feature", String(100), nullable=False),
    Column("baseline", String(200), nullable=False),
    Column("observed", String(200), nullable=False),
    Column("why", String(1000), nullable=False),
    Column("status", String(10), nullable=False, server_default="open"),
    Column("acked_by", String(200), nullable=True),
    Column("acked_at", String(40), nullable=True),
    Column("note", String(1000), nullable=True),
    UniqueConstraint("kind", "key", "window", name="uq_alert_window"),
    Index("ix_alerts_status", "status", "id"),
)
monitor_state = Table(
    "veil_monitor_state",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("last_record", BigInteger().with_variant(Integer, "sqlite"), nullable=False),
    Column("updated", String(40), nullable=False),
)

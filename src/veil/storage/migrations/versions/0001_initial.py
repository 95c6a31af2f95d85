"""Initial schema: keys, tokens, counters, audit log, roles, principals.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        "veil_keys",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("scope", sa.String(200), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("kek_id", sa.String(32), nullable=False),
        sa.Column("wrapped", sa.LargeBinary, nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("rotated", sa.DateTime(timezone=True), nullable=True),
        sa.Column("shredded", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("scope", "subject", name="uq_keys_scope_subject"),
    )
    op.create_table(
        "veil_tokens",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("scope", sa.String(200), nullable=False),
        sa.Column("entity", sa.String(64), nullable=False),
        sa.Column("token", sa.String(200), nullable=False),
        sa.Column("lookup", sa.LargeBinary(32), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary, nullable=True),
        sa.Column("created", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.UniqueConstraint("lookup", "scope", name="uq_tokens_lookup_scope"),
        sa.UniqueConstraint("token", "scope", name="uq_tokens_token_scope"),
    )
    op.create_table(
        "veil_counters",
        sa.Column("scope", sa.String(200), primary_key=True),
        sa.Column("entity", sa.String(64), primary_key=True),
        sa.Column("value", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "veil_audit",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(100), nullable=False),
        sa.Column("scope", sa.String(200), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("purpose", sa.String(200), nullable=False),
        sa.Column("result", sa.String(40), nullable=False),
        sa.Column("details", sa.String, nullable=False),
        sa.Column("prev", sa.LargeBinary(32), nullable=False),
        sa.Column("digest", sa.LargeBinary(32), nullable=False),
    )
    op.create_table(
        "veil_roles",
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("permissions", sa.String, nullable=False),
        sa.Column("purposes", sa.String, nullable=False),
        sa.Column("entities", sa.String, nullable=False),
    )
    op.create_table(
        "veil_principals",
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("role", sa.String(100), nullable=False),
        sa.Column("key_id", sa.String(32), nullable=False, unique=True),
        sa.Column("key_hash", sa.String(200), nullable=False),
        sa.Column("totp_secret", sa.LargeBinary, nullable=True),
        sa.Column("totp_last_step", sa.BigInteger, nullable=False),
        sa.Column("disabled", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )


def downgrade() -> None:
    for table in ("veil_principals", "veil_roles", "veil_audit", "veil_counters", "veil_tokens", "veil_keys"):
        op.drop_table(table)

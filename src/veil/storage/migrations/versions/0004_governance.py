"""Governance: data subjects, the append-only consent ledger, data-subject requests, breaches.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")
_APPEND_ONLY_PG = """
CREATE FUNCTION veil_consent_append_only() RETURNS trigger AS $$
BEGIN RAISE EXCEPTION 'veil_consent is append-only'; END $$ LANGUAGE plpgsql;
CREATE TRIGGER veil_consent_no_change BEFORE UPDATE OR DELETE ON veil_consent
FOR EACH ROW EXECUTE FUNCTION veil_consent_append_only();
"""
_APPEND_ONLY_SQLITE = [
    "CREATE TRIGGER veil_consent_no_update BEFORE UPDATE ON veil_consent "
    "BEGIN SELECT RAISE(ABORT, 'veil_consent is append-only'); END",
    "CREATE TRIGGER veil_consent_no_delete BEFORE DELETE ON veil_consent "
    "BEGIN SELECT RAISE(ABORT, 'veil_consent is append-only'); END",
]


def upgrade() -> None:
    op.create_table(
        "veil_subjects",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("identifier", sa.LargeBinary, nullable=True),
        sa.Column("created", sa.String(40), nullable=False),
        sa.Column("erased", sa.String(40), nullable=True),
        sa.Column("generation", sa.Integer, nullable=False, server_default="0"),
    )
    op.create_table(
        "veil_consent",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("subject", sa.String(64), nullable=False),
        sa.Column("purpose", sa.String(200), nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("source", sa.String(200), nullable=False, server_default=""),
        sa.Column("notice_version", sa.String(100), nullable=False, server_default=""),
        sa.Column("notice_hash", sa.String(64), nullable=False, server_default=""),
    )
    op.create_index("ix_consent_subject_purpose", "veil_consent", ["subject", "purpose", "id"])
    op.create_table(
        "veil_requests",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("subject", sa.String(64), nullable=False),
        sa.Column("type", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("jurisdiction", sa.String(10), nullable=False),
        sa.Column("received", sa.String(40), nullable=False),
        sa.Column("due", sa.String(40), nullable=False),
        sa.Column("updated", sa.String(40), nullable=False),
        sa.Column("params", sa.LargeBinary, nullable=True),
        sa.Column("progress", sa.String, nullable=False, server_default="{}"),
        sa.Column("timeline", sa.String, nullable=False, server_default="[]"),
        sa.Column("result", sa.String, nullable=False, server_default="{}"),
    )
    op.create_index("ix_requests_status", "veil_requests", ["status"])
    op.create_index("ix_requests_subject", "veil_requests", ["subject"])
    op.create_table(
        "veil_breaches",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("detected", sa.String(40), nullable=False),
        sa.Column("authority_due", sa.String(40), nullable=False),
        sa.Column("authority_notified", sa.String(40), nullable=True),
        sa.Column("closed", sa.String(40), nullable=True),
        sa.Column("facts", sa.String, nullable=False, server_default="{}"),
        sa.Column("timeline", sa.String, nullable=False, server_default="[]"),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_APPEND_ONLY_PG)
    else:
        for stmt in _APPEND_ONLY_SQLITE:
            op.execute(stmt)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS veil_consent_no_change ON veil_consent")
        op.execute("DROP FUNCTION IF EXISTS veil_consent_append_only()")
    for name in ("veil_breaches", "veil_requests", "veil_consent", "veil_subjects"):
        op.drop_table(name)

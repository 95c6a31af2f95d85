"""The monitor: alerts (one per detector, key and window) and the position it has read the audit log to.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        "veil_alerts",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("key", sa.String(300), nullable=False),
        sa.Column("window", sa.String(40), nullable=False),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("record", _ID, nullable=False),
        sa.Column("severity", sa.String(10), nullable=False),
        sa.Column("feature", sa.String(100), nullable=False),
        sa.Column("baseline", sa.String(200), nullable=False),
        sa.Column("observed", sa.String(200), nullable=False),
        sa.Column("why", sa.String(1000), nullable=False),
        sa.Column("status", sa.String(10), nullable=False, server_default="open"),
        sa.Column("acked_by", sa.String(200), nullable=True),
        sa.Column("acked_at", sa.String(40), nullable=True),
        sa.Column("note", sa.String(1000), nullable=True),
        sa.UniqueConstraint("kind", "key", "window", name="uq_alert_window"),
    )
    op.create_index("ix_alerts_status", "veil_alerts", ["status", "id"])
    op.create_table(
        "veil_monitor_state",
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("last_record", _ID, nullable=False),
        sa.Column("updated", sa.String(40), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("veil_monitor_state")
    op.drop_table("veil_alerts")

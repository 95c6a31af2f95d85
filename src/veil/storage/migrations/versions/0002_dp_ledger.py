"""Differential privacy budget ledger: a budget per dataset and every spend against it.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        "veil_dp_budgets",
        sa.Column("dataset", sa.String(400), primary_key=True),
        sa.Column("epsilon", sa.Float, nullable=False),
        sa.Column("delta", sa.Float, nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )
    op.create_table(
        "veil_dp_spends",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("dataset", sa.String(400), sa.ForeignKey("veil_dp_budgets.dataset"), nullable=False),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("query", sa.String, nullable=False),
        sa.Column("mechanism", sa.String(100), nullable=False),
        sa.Column("epsilon", sa.Float, nullable=False),
        sa.Column("delta", sa.Float, nullable=False),
        sa.Column("rho", sa.Float, nullable=True),
    )
    op.create_index("ix_dp_spends_dataset", "veil_dp_spends", ["dataset"])


def downgrade() -> None:
    op.drop_index("ix_dp_spends_dataset", "veil_dp_spends")
    op.drop_table("veil_dp_spends")
    op.drop_table("veil_dp_budgets")

"""Roles name the pseudonym scope their principals work in (the guard's tenants).

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("veil_roles") as batch:
        batch.add_column(sa.Column("scope", sa.String(200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("veil_roles") as batch:
        batch.drop_column("scope")

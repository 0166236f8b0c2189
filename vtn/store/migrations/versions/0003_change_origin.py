"""change feed origin

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 11:11:35.600098
"""

from alembic import op
import sqlalchemy as sa


revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:

    with op.batch_alter_table("change", schema=None) as batch_op:
        batch_op.add_column(sa.Column("origin", sa.String(length=64), server_default="cli", nullable=False))


def downgrade() -> None:

    with op.batch_alter_table("change", schema=None) as batch_op:
        batch_op.drop_column("origin")

"""aggregator: the aggregator API's orders and series (issue 11)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26 14:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the aggregator_request table."""
    op.create_table(
        "aggregator_request",
        sa.Column("client_id", sa.String(128), primary_key=True),
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("request_id", sa.String(128), primary_key=True),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("placements", sa.JSON(), nullable=False),
        sa.Column("cancelled", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("modified_at", sa.DateTime(), nullable=False),
    )


def downgrade() -> None:
    """Drop the aggregator_request table."""
    op.drop_table("aggregator_request")

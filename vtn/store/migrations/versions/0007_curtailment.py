"""curtailment: achieved-curtailment report requests per event (issue 7)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26 14:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Two tables: the requests made per (event, VEN), and the events already handled."""
    op.create_table(
        "curtailment_request",
        sa.Column("report_request_id", sa.String(length=128), primary_key=True),
        sa.Column("event_id", sa.String(length=128), nullable=False),
        sa.Column("ven_id", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_curtailment_request_event_id", "curtailment_request", ["event_id"])
    op.create_index("ix_curtailment_request_ven_id", "curtailment_request", ["ven_id"])
    op.create_table(
        "curtailment_scan",
        sa.Column("event_id", sa.String(length=128), primary_key=True),
        sa.Column("requested", sa.Integer(), nullable=False),
        sa.Column("scanned_at", sa.DateTime(), nullable=False),
    )


def downgrade() -> None:
    """Drop both tables."""
    op.drop_table("curtailment_scan")
    op.drop_index("ix_curtailment_request_ven_id", table_name="curtailment_request")
    op.drop_index("ix_curtailment_request_event_id", table_name="curtailment_request")
    op.drop_table("curtailment_request")

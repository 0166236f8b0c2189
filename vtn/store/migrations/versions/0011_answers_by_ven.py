"""answers_by_ven: the operator's VEN page reads one VEN's answers to events (issue 21)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 04:00:00

`event_response` was indexed by (event_id, ven_id) only, so a VEN's latest answer per event
(`vtn.store.ven_overview.event_answers`) scanned the whole table. An index led by ven_id serves it.
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Index event_response by ven_id, then id (the newest answer per event)."""
    op.create_index("ix_event_response_ven", "event_response", ["ven_id", "id"])


def downgrade() -> None:
    """Drop what upgrade() made."""
    op.drop_index("ix_event_response_ven", table_name="event_response")

"""aggregator: reserved for issue 11 (aggregator API: orders, acknowledgements)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26 14:10:00
"""

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing yet: the revision keeps the chain linear while the issue is in progress."""


def downgrade() -> None:
    """Nothing yet."""

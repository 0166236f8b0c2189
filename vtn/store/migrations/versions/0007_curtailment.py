"""curtailment: reserved for issue 7 (achieved-curtailment reports per event)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26 13:45:00
"""

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing yet: the revision keeps the chain linear while the issue is in progress."""


def downgrade() -> None:
    """Nothing yet."""

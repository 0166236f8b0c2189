"""dso upstream: reserved for issue 6 (DSO API: programs, zones, upstream clients, external message ids)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 13:45:00
"""

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing yet: the revision keeps the chain linear while the issue is in progress."""


def downgrade() -> None:
    """Nothing yet."""

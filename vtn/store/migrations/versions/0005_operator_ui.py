"""operator ui: reserved for issue 8 (operator UI: users, sessions, audit log)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 13:45:00
"""

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing yet: the revision keeps the chain linear while the issue is in progress."""


def downgrade() -> None:
    """Nothing yet."""

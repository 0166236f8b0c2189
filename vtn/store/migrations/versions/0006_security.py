"""security: reserved for issue 9 (security: certificate fingerprints, signature replay window)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 13:45:00
"""

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing yet: the revision keeps the chain linear while the issue is in progress."""


def downgrade() -> None:
    """Nothing yet."""

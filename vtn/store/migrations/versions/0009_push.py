"""push: reserved for 2.0b push delivery (issue 10); no change yet

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26 16:00:00
"""

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing yet."""


def downgrade() -> None:
    """Nothing yet."""

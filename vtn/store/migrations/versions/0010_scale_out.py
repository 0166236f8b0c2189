"""scale_out: reserved for several VTN processes on one PostgreSQL (issue 10); no change yet

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-26 16:00:00
"""

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing yet."""


def downgrade() -> None:
    """Nothing yet."""

"""push: 2.0b push delivery (issue 10) needs no schema change

The VEN table already keeps oadrTransportAddress and oadrHttpPullModel, and the outbox is the push
queue: a message stays pending (delivered_at NULL) until the push VEN answered. The revision stays so
that the numbering of issue 10's migrations is the one agreed.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26 16:00:00
"""

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing to change."""


def downgrade() -> None:
    """Nothing to change."""

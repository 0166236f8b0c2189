"""dso upstream: API clients, token signing key, OpenADR 3 programs, events and subscriptions, operators' message ids,
and an index on event.end_at (the overlap check of every new event)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 13:45:00
"""

import sqlalchemy as sa
from alembic import op


revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the DSO API tables."""
    op.create_table(
        "dso_client",
        sa.Column("client_id", sa.String(128), primary_key=True),
        sa.Column("secret_hash", sa.String(512), nullable=False),
        sa.Column("scopes", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.create_table(
        "dso_signing_key",
        sa.Column("key_id", sa.String(64), primary_key=True),
        sa.Column("secret", sa.String(256), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "dso_program",
        sa.Column("program_id", sa.String(128), sa.ForeignKey("program.program_id"), primary_key=True),
        sa.Column("program_name", sa.String(128), nullable=False, unique=True),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("client_id", sa.String(128)),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("modified_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "dso_event",
        sa.Column("event_id", sa.String(128), sa.ForeignKey("event.event_id"), primary_key=True),
        sa.Column("client_id", sa.String(128), nullable=False, index=True),
        sa.Column("program_id", sa.String(128), nullable=False, index=True),
        sa.Column("api_version", sa.String(8), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("modified_at", sa.DateTime(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False, server_default=sa.false(), index=True),
    )
    op.create_table(
        "dso_subscription",
        sa.Column("subscription_id", sa.String(128), primary_key=True),
        sa.Column("client_id", sa.String(128), nullable=False, index=True),
        sa.Column("api_version", sa.String(8), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("modified_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "dso_message",
        sa.Column("kind", sa.String(32), primary_key=True),
        sa.Column("message_id", sa.String(256), primary_key=True),
        sa.Column("client_id", sa.String(128), nullable=False),
        sa.Column("event_ids", sa.JSON(), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
    )

    op.create_index("ix_event_end_at", "event", ["end_at"])


def downgrade() -> None:
    """Drop the DSO API tables."""
    op.drop_index("ix_event_end_at", table_name="event")
    for table in ("dso_message", "dso_subscription", "dso_event", "dso_program", "dso_signing_key", "dso_client"):
        op.drop_table(table)

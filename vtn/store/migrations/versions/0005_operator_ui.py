"""operator ui: users, login sessions, audit log, event-log indexes

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 13:45:00
"""

import sqlalchemy as sa
from alembic import op

from vtn.store.models import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

EVENT_INDEXES = {
    "ix_event_created_id": ["created_at", "event_id"],
    "ix_event_dtstart_id": ["dtstart", "event_id"],
    "ix_event_status_dtstart": ["status", "dtstart", "event_id"],
    "ix_event_program_dtstart": ["market_context", "dtstart", "event_id"],
}


def upgrade() -> None:
    """Users, sessions and the audit log of the operator UI; indexes for keyset pages of the event log."""
    op.create_table(
        "ui_user",
        sa.Column("username", sa.String(128), primary_key=True),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "ui_session",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("username", sa.String(128), nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "ui_audit",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("username", sa.String(128), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target", sa.String(256), nullable=False),
        sa.Column("detail", sa.JSON, nullable=False),
    )
    op.create_index("ix_ui_session_username", "ui_session", ["username"])
    op.create_index("ix_ui_audit_at", "ui_audit", ["at"])
    for name, columns in EVENT_INDEXES.items():
        op.create_index(name, "event", columns)
    op.create_index("ix_event_delivery_event", "event_delivery", ["event_id", "ven_id"])


def downgrade() -> None:
    """Drop what upgrade() made."""
    op.drop_index("ix_event_delivery_event", table_name="event_delivery")
    for name in EVENT_INDEXES:
        op.drop_index(name, table_name="event")
    op.drop_table("ui_audit")
    op.drop_table("ui_session")
    op.drop_table("ui_user")

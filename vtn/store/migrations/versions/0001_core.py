"""core: vens, programs, groups, events, revisions, deliveries, responses, outbox, change feed

Revision ID: 0001
Revises:
Create Date: 2026-11-26 10:49:24.826314
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "change",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=256), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "event",
        sa.Column("event_id", sa.String(length=128), nullable=False),
        sa.Column("market_context", sa.String(length=512), nullable=False),
        sa.Column("modification_number", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("cancelled", sa.Boolean(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=True),
        sa.Column("dtstart", sa.DateTime(), nullable=False),
        sa.Column("end_at", sa.DateTime(), nullable=True),
        sa.Column("source", sa.String(length=256), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("modified_at", sa.DateTime(), nullable=False),
        sa.Column("closed", sa.Boolean(), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("event_id"),
    )
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_event_closed"), ["closed"], unique=False)
        batch_op.create_index(batch_op.f("ix_event_dtstart"), ["dtstart"], unique=False)
        batch_op.create_index(batch_op.f("ix_event_market_context"), ["market_context"], unique=False)
        batch_op.create_index(batch_op.f("ix_event_status"), ["status"], unique=False)

    op.create_table(
        "event_delivery",
        sa.Column("ven_id", sa.String(length=128), nullable=False),
        sa.Column("event_id", sa.String(length=128), nullable=False),
        sa.Column("modification_number", sa.Integer(), nullable=False),
        sa.Column("first_delivered_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("ven_id", "event_id", "modification_number"),
    )
    op.create_table(
        "event_response",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("ven_id", sa.String(length=128), nullable=False),
        sa.Column("event_id", sa.String(length=128), nullable=False),
        sa.Column("modification_number", sa.Integer(), nullable=False),
        sa.Column("opt_type", sa.String(length=8), nullable=False),
        sa.Column("response_code", sa.Integer(), nullable=False),
        sa.Column("response_description", sa.Text(), nullable=False),
        sa.Column("request_id", sa.String(length=256), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("event_response", schema=None) as batch_op:
        batch_op.create_index("ix_event_response_event_ven", ["event_id", "ven_id"], unique=False)

    op.create_table(
        "group_member",
        sa.Column("group_id", sa.String(length=128), nullable=False),
        sa.Column("ven_name", sa.String(length=256), nullable=False),
        sa.PrimaryKeyConstraint("group_id", "ven_name"),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("ven_id", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("delivered_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_ven_pending", ["ven_id", "delivered_at"], unique=False)

    op.create_table(
        "program",
        sa.Column("program_id", sa.String(length=128), nullable=False),
        sa.Column("market_context", sa.String(length=512), nullable=False),
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.PrimaryKeyConstraint("program_id"),
        sa.UniqueConstraint("market_context"),
    )
    op.create_table(
        "resource",
        sa.Column("resource_id", sa.String(length=128), nullable=False),
        sa.Column("ven_name", sa.String(length=256), nullable=False),
        sa.PrimaryKeyConstraint("resource_id"),
    )
    with op.batch_alter_table("resource", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_resource_ven_name"), ["ven_name"], unique=False)

    op.create_table(
        "ven",
        sa.Column("ven_id", sa.String(length=128), nullable=False),
        sa.Column("ven_name", sa.String(length=256), nullable=True),
        sa.Column("registration_id", sa.String(length=128), nullable=True),
        sa.Column("profile_name", sa.String(length=16), nullable=False),
        sa.Column("transport_name", sa.String(length=32), nullable=False),
        sa.Column("transport_address", sa.Text(), nullable=True),
        sa.Column("http_pull_model", sa.Boolean(), nullable=False),
        sa.Column("report_only", sa.Boolean(), nullable=False),
        sa.Column("xml_signature", sa.Boolean(), nullable=False),
        sa.Column("fingerprint", sa.String(length=128), nullable=True),
        sa.Column("party_id", sa.String(length=128), nullable=True),
        sa.Column("registered_at", sa.DateTime(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("ven_id"),
        sa.UniqueConstraint("registration_id"),
        sa.UniqueConstraint("ven_name"),
    )
    op.create_table(
        "event_revision",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(length=128), nullable=False),
        sa.Column("modification_number", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["event.event_id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("event_revision", schema=None) as batch_op:
        batch_op.create_index("ix_event_revision_event_mod", ["event_id", "modification_number"], unique=True)


def downgrade() -> None:

    with op.batch_alter_table("event_revision", schema=None) as batch_op:
        batch_op.drop_index("ix_event_revision_event_mod")

    op.drop_table("event_revision")
    op.drop_table("ven")
    with op.batch_alter_table("resource", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_resource_ven_name"))

    op.drop_table("resource")
    op.drop_table("program")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_ven_pending")

    op.drop_table("outbox")
    op.drop_table("group_member")
    with op.batch_alter_table("event_response", schema=None) as batch_op:
        batch_op.drop_index("ix_event_response_event_ven")

    op.drop_table("event_response")
    op.drop_table("event_delivery")
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_event_status"))
        batch_op.drop_index(batch_op.f("ix_event_market_context"))
        batch_op.drop_index(batch_op.f("ix_event_dtstart"))
        batch_op.drop_index(batch_op.f("ix_event_closed"))

    op.drop_table("event")
    op.drop_table("change")

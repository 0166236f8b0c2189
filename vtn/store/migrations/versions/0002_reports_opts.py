"""reports and opts: report descriptions, requests, points; opts

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 11:01:29.087248
"""

from alembic import op
import sqlalchemy as sa


revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "opt",
        sa.Column("ven_id", sa.String(length=128), nullable=False),
        sa.Column("opt_id", sa.String(length=256), nullable=False),
        sa.Column("opt_type", sa.String(length=8), nullable=False),
        sa.Column("opt_reason", sa.String(length=64), nullable=False),
        sa.Column("market_context", sa.String(length=512), nullable=True),
        sa.Column("event_id", sa.String(length=128), nullable=True),
        sa.Column("modification_number", sa.Integer(), nullable=True),
        sa.Column("windows", sa.JSON(), nullable=False),
        sa.Column("target", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("cancelled_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("ven_id", "opt_id"),
    )
    with op.batch_alter_table("opt", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_opt_event_id"), ["event_id"], unique=False)

    op.create_table(
        "report_description",
        sa.Column("ven_id", sa.String(length=128), nullable=False),
        sa.Column("report_specifier_id", sa.String(length=256), nullable=False),
        sa.Column("r_id", sa.String(length=256), nullable=False),
        sa.Column("report_name", sa.String(length=128), nullable=False),
        sa.Column("report_type", sa.String(length=64), nullable=False),
        sa.Column("reading_type", sa.String(length=64), nullable=False),
        sa.Column("unit", sa.JSON(), nullable=True),
        sa.Column("min_period_s", sa.Double(), nullable=True),
        sa.Column("max_period_s", sa.Double(), nullable=True),
        sa.Column("on_change", sa.Boolean(), nullable=False),
        sa.Column("market_context", sa.String(length=512), nullable=True),
        sa.Column("data_source", sa.JSON(), nullable=False),
        sa.Column("registered_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("ven_id", "report_specifier_id", "r_id"),
    )
    op.create_table(
        "report_point",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("ven_id", sa.String(length=128), nullable=False),
        sa.Column("report_request_id", sa.String(length=128), nullable=False),
        sa.Column("report_specifier_id", sa.String(length=256), nullable=False),
        sa.Column("report_name", sa.String(length=128), nullable=True),
        sa.Column("r_id", sa.String(length=256), nullable=False),
        sa.Column("reading_type", sa.String(length=64), nullable=True),
        sa.Column("dtstart", sa.DateTime(), nullable=False),
        sa.Column("duration_s", sa.Double(), nullable=True),
        sa.Column("value", sa.Double(), nullable=True),
        sa.Column("status", sa.JSON(), nullable=True),
        sa.Column("confidence", sa.Integer(), nullable=True),
        sa.Column("accuracy", sa.Double(), nullable=True),
        sa.Column("data_quality", sa.String(length=128), nullable=True),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("report_point", schema=None) as batch_op:
        batch_op.create_index("ix_report_point_unique", ["ven_id", "report_request_id", "r_id", "dtstart"], unique=True)
        batch_op.create_index("ix_report_point_ven_time", ["ven_id", "dtstart"], unique=False)

    op.create_table(
        "report_request",
        sa.Column("report_request_id", sa.String(length=128), nullable=False),
        sa.Column("ven_id", sa.String(length=128), nullable=False),
        sa.Column("report_specifier_id", sa.String(length=256), nullable=False),
        sa.Column("report_name", sa.String(length=128), nullable=False),
        sa.Column("granularity_s", sa.Double(), nullable=False),
        sa.Column("report_back_s", sa.Double(), nullable=False),
        sa.Column("interval_start", sa.DateTime(), nullable=True),
        sa.Column("interval_duration_s", sa.Double(), nullable=True),
        sa.Column("r_ids", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("report_request_id"),
    )
    with op.batch_alter_table("report_request", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_report_request_ven_id"), ["ven_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("report_request", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_report_request_ven_id"))

    op.drop_table("report_request")
    with op.batch_alter_table("report_point", schema=None) as batch_op:
        batch_op.drop_index("ix_report_point_ven_time")
        batch_op.drop_index("ix_report_point_unique")

    op.drop_table("report_point")
    op.drop_table("report_description")
    with op.batch_alter_table("opt", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_opt_event_id"))

    op.drop_table("opt")

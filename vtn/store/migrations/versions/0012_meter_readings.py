"""meter_readings: load curves imported from meter operators, for the VTN's own baselines, and settlement statements (issue 18)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 18:00:00

The VTN settles: it computes baselines from meter data it holds. `meter_reading` keeps one step of a
delivery point's load curve per row (unique by delivery point and start: a corrected curve replaces
the value and counts a revision); `meter_import` is the audit trail of the imports;
`settlement_statement` keeps each issued statement whole, never updated.
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create meter_reading and meter_import."""
    op.create_table(
        "meter_reading",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("delivery_point", sa.String(64), nullable=False),
        sa.Column("start", sa.DateTime(), nullable=False),
        sa.Column("end", sa.DateTime(), nullable=False),
        sa.Column("kw", sa.Float, nullable=False),
        sa.Column("estimated", sa.Boolean, nullable=False),
        sa.Column("batch", sa.String(64), nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("imported_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_meter_reading_point_start", "meter_reading", ["delivery_point", "start"], unique=True)
    op.create_table(
        "meter_import",
        sa.Column("batch", sa.String(64), primary_key=True),
        sa.Column("source", sa.String(256), nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("delivery_points", sa.Integer, nullable=False),
        sa.Column("added", sa.Integer, nullable=False),
        sa.Column("corrected", sa.Integer, nullable=False),
        sa.Column("imported_at", sa.DateTime(), nullable=False),
    )

    op.create_table(
        "settlement_statement",
        sa.Column("statement_id", sa.String(64), primary_key=True),
        sa.Column("scope_kind", sa.String(16), nullable=False),
        sa.Column("scope_key", sa.String(512), nullable=False),
        sa.Column("period_start", sa.DateTime(), nullable=False),
        sa.Column("period_end", sa.DateTime(), nullable=False),
        sa.Column("issued_at", sa.DateTime(), nullable=False),
        sa.Column("issued_by", sa.String(128), nullable=False),
        sa.Column("reason", sa.String(1024), nullable=True),
        sa.Column("supersedes", sa.String(64), nullable=True),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
    )
    op.create_index("ix_settlement_scope", "settlement_statement", ["scope_kind", "scope_key", "period_start"])


def downgrade() -> None:
    """Drop what upgrade() made."""
    op.drop_index("ix_settlement_scope", table_name="settlement_statement")
    op.drop_table("settlement_statement")
    op.drop_table("meter_import")
    op.drop_index("ix_meter_reading_point_start", table_name="meter_reading")
    op.drop_table("meter_reading")

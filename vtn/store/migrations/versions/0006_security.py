"""security: nonces of signed messages (replay protection of XML signatures)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 13:45:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add signature_nonces (vens.fingerprint, the certificate a VEN is bound to, exists since 0001)."""
    op.create_table(
        "signature_nonces",
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("nonce", sa.String(length=200), nullable=False),
        sa.Column("signed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("fingerprint", "nonce"),
    )
    op.create_index("ix_signature_nonces_signed_at", "signature_nonces", ["signed_at"])


def downgrade() -> None:
    """Drop what upgrade added."""
    op.drop_index("ix_signature_nonces_signed_at", table_name="signature_nonces")
    op.drop_table("signature_nonces")

"""scale_out: several VTN processes on one PostgreSQL (issue 10) — event status history, change NOTIFY

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-26 16:00:00

- `event_status_change`: one row per status an event took under one modification (who wrote it and
  when). The unique key makes a doubled transition impossible, whichever process writes it.
- On PostgreSQL only: a statement-level trigger on `change` sends `NOTIFY cariflex_change`, so every
  VTN process listening reloads at once instead of at its next periodic refresh. Identical
  notifications of one transaction are folded into one by PostgreSQL (a bulk write wakes listeners once).
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

#: the channel vtn/cluster/listen.py listens on (keep the two in step)
CHANNEL = "cariflex_change"


def upgrade() -> None:
    """Create event_status_change (seeded with every event's current status) and, on PostgreSQL, the NOTIFY trigger."""
    op.create_table(
        "event_status_change",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(128), sa.ForeignKey("event.event_id"), nullable=False),
        sa.Column("modification_number", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("origin", sa.String(64), nullable=False),
        sa.UniqueConstraint("event_id", "modification_number", "status", name="uq_event_status_change"),
    )
    op.execute(
        "INSERT INTO event_status_change (event_id, modification_number, status, at, origin) "
        "SELECT event_id, modification_number, status, modified_at, 'migration' FROM event"
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"""
            CREATE FUNCTION cariflex_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              PERFORM pg_notify('{CHANNEL}', '');
              RETURN NULL;
            END $$
            """
        )
        op.execute(
            "CREATE TRIGGER change_notify AFTER INSERT ON change FOR EACH STATEMENT EXECUTE FUNCTION cariflex_notify_change()"
        )


def downgrade() -> None:
    """Drop the trigger (PostgreSQL) and the status history."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS change_notify ON change")
        op.execute("DROP FUNCTION IF EXISTS cariflex_notify_change()")
    op.drop_table("event_status_change")

"""portfolios and webhooks: which sites each aggregator or supplier client holds, and since when; the
clients' webhook subscriptions and what each order last notified (issue 23)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 21:30:00

`aggregator_holding` keeps one row per period a site belongs to a client (`until` null: still), in
a role (aggregator or supplier: one owner of each at a time). The
API answers a client only about the sites it holds, so existing clients would lose every site at
upgrade: the upgrade gives each client the sites its stored orders and series already addressed
(since its first request on the site), when exactly one client addressed the site. A site several
clients addressed is left unassigned (the operator decides: `cariflex aggregator portfolio add`);
any other site waits for the operator too. The audit trail is the operator UI's (`ui_audit`).

`aggregator_subscription` keeps each client's webhook (URL, events, signing secret);
`aggregator_request.notified` what an order's webhooks were last told, `settled` once it can change no
more. Orders stored before the upgrade are marked settled: their history is not replayed to new subscribers.
"""

from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def _seed() -> None:
    """Holdings from the stored requests' placements (see the module's docstring)."""
    requests = sa.table(
        "aggregator_request", sa.column("client_id"), sa.column("placements", sa.JSON()), sa.column("created_at", sa.DateTime())
    )
    first: dict[str, dict[str, datetime]] = {}  # site → client → first request
    for client_id, placements, created_at in op.get_bind().execute(sa.select(requests)):
        for placement in placements or []:
            site = placement.get("site") if isinstance(placement, dict) else None
            if isinstance(site, str):
                clients = first.setdefault(site, {})
                clients[client_id] = min(created_at, clients.get(client_id, created_at))
    holding = sa.table(
        "aggregator_holding",
        sa.column("client_id"),
        sa.column("site"),
        sa.column("since", sa.DateTime()),
        sa.column("until", sa.DateTime()),
    )
    rows = [
        {"client_id": client_id, "site": site, "since": since, "until": None}
        for site, clients in sorted(first.items())
        if len(clients) == 1
        for client_id, since in clients.items()
    ]
    if rows:
        op.bulk_insert(holding, rows)


def upgrade() -> None:
    """Create aggregator_holding and seed it from the stored orders and series."""
    op.create_table(
        "aggregator_holding",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("client_id", sa.String(128), nullable=False),
        sa.Column("site", sa.String(128), nullable=False),
        sa.Column("role", sa.String(16), nullable=False, server_default="aggregator"),
        sa.Column("since", sa.DateTime(), nullable=False),
        sa.Column("until", sa.DateTime(), nullable=True),
    )
    op.create_index("ix_aggregator_holding_client", "aggregator_holding", ["client_id", "site"])
    op.create_index("ix_aggregator_holding_site", "aggregator_holding", ["site", "since"])
    _seed()
    op.create_table(
        "aggregator_subscription",
        sa.Column("subscription_id", sa.String(64), primary_key=True),
        sa.Column("client_id", sa.String(128), nullable=False),
        sa.Column("callback_url", sa.String(2048), nullable=False),
        sa.Column("events", sa.JSON(), nullable=False),
        sa.Column("secret", sa.String(128), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_aggregator_subscription_client_id", "aggregator_subscription", ["client_id"])
    with op.batch_alter_table("aggregator_request") as batch:
        batch.add_column(sa.Column("notified", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("settled", sa.Boolean(), nullable=False, server_default=sa.true()))
    # new orders start unsettled (the model's default); the server default only marked the old ones
    with op.batch_alter_table("aggregator_request") as batch:
        batch.alter_column("settled", server_default=sa.false())


def downgrade() -> None:
    """Drop what upgrade() made."""
    with op.batch_alter_table("aggregator_request") as batch:
        batch.drop_column("settled")
        batch.drop_column("notified")
    op.drop_index("ix_aggregator_subscription_client_id", table_name="aggregator_subscription")
    op.drop_table("aggregator_subscription")
    op.drop_index("ix_aggregator_holding_site", table_name="aggregator_holding")
    op.drop_index("ix_aggregator_holding_client", table_name="aggregator_holding")
    op.drop_table("aggregator_holding")

"""Store model of the aggregator API: each order or series an aggregator sent, as accepted, and where
its per-site events went (event id, or why the site was refused); and which sites each client holds, when."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from vtn.store.models import Base, UTCDateTime


class AggregatorRequest(Base):
    """An order or a series, keyed by the aggregator and its own id (the same id twice creates nothing).

    `placements` is a list of `{"site", "ven_id", "event_id", "refused"}`, one per site.
    """

    __tablename__ = "aggregator_request"
    client_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    request_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    placements: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    cancelled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    modified_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: what the client's webhooks were last told about it (`mapping.flexready.notices.snapshot`); None: nothing yet
    notified: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    #: nothing more will change: the notifier stops looking at it
    settled: Mapped[bool] = mapped_column(Boolean, default=False)


class AggregatorHolding(Base):
    """A period during which a site belongs to an aggregator's (or supplier's) portfolio: from `since`
    until `until` (None: still). A switch closes the old owner's row and opens the new owner's at the
    same instant, so at any moment a site has at most one owner of each role (`vtn.store.portfolio_repository`)."""

    __tablename__ = "aggregator_holding"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    client_id: Mapped[str] = mapped_column(String(128))
    site: Mapped[str] = mapped_column(String(128))
    #: "aggregator" or "supplier": a site has at most one owner of each role at any moment
    role: Mapped[str] = mapped_column(String(16), default="aggregator")
    since: Mapped[datetime] = mapped_column(UTCDateTime)
    until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class AggregatorSubscription(Base):
    """A client's webhook: the URL its notifications go to, which ones, and the secret that signs them
    (kept in clear: the VTN computes HMACs with it; shown to the client once, at creation)."""

    __tablename__ = "aggregator_subscription"
    subscription_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(128), index=True)
    callback_url: Mapped[str] = mapped_column(String(2048))
    events: Mapped[list[str]] = mapped_column(JSON)
    secret: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


# The API reads one client's holdings on every request; a switch reads one site's.
Index("ix_aggregator_holding_client", AggregatorHolding.client_id, AggregatorHolding.site)
Index("ix_aggregator_holding_site", AggregatorHolding.site, AggregatorHolding.since)

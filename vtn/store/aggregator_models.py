"""Store model of the aggregator API: each order or series an aggregator sent, as accepted, and where
its per-site events went (event id, or why the site was refused)."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, String
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

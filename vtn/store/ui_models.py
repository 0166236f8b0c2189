"""Store models of the operator UI: users, login sessions and the audit log (same `Base` as the VTN store)."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from vtn.store.models import Base, Event, EventDelivery, UTCDateTime


class UiUser(Base):
    """An operator-UI account; `password_hash` is an argon2 hash, never the password."""

    __tablename__ = "ui_user"
    username: Mapped[str] = mapped_column(String(128), primary_key=True)
    password_hash: Mapped[str] = mapped_column(Text)
    #: viewer (read only) or operator (read and act)
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class UiSession(Base):
    """A login session. The browser holds the token; the store keeps only its SHA-256."""

    __tablename__ = "ui_session"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    username: Mapped[str] = mapped_column(String(128), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AuditEntry(Base):
    """An operator action: who did what to which object, and when."""

    __tablename__ = "ui_audit"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    username: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(256))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


# The event log sorts by these columns with a filter in front; keyset pages need them indexed.
Index("ix_event_created_id", Event.created_at, Event.event_id)
Index("ix_event_dtstart_id", Event.dtstart, Event.event_id)
Index("ix_event_status_dtstart", Event.status, Event.dtstart, Event.event_id)
Index("ix_event_program_dtstart", Event.market_context, Event.dtstart, Event.event_id)
# Delivery counts per event on each page (the table's key starts with ven_id).
Index("ix_event_delivery_event", EventDelivery.event_id, EventDelivery.ven_id)

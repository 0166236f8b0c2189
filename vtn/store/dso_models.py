"""Store models of the DSO (upstream) API: clients, token signing key, OpenADR 3 programs and events,
and the grid operators' message ids (idempotency of the French adapters)."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from vtn.store.models import Base, Event, UTCDateTime


class DsoClient(Base):
    """An upstream API client (OAuth2 client credentials); only a hash of its secret is kept."""

    __tablename__ = "dso_client"
    client_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    secret_hash: Mapped[str] = mapped_column(String(512))
    scopes: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)


class DsoSigningKey(Base):
    """The key access tokens are signed with, shared by every VTN process on the store."""

    __tablename__ = "dso_signing_key"
    key_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    secret: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DsoProgram(Base):
    """The OpenADR 3 view of a program (the 2.0b program row holds id, market context and name)."""

    __tablename__ = "dso_program"
    program_id: Mapped[str] = mapped_column(ForeignKey("program.program_id"), primary_key=True)
    program_name: Mapped[str] = mapped_column(String(128), unique=True)
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    client_id: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    modified_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DsoEvent(Base):
    """An event as an upstream client sent it (OpenADR 3), beside the 2.0b event it became."""

    __tablename__ = "dso_event"
    event_id: Mapped[str] = mapped_column(ForeignKey("event.event_id"), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(128), index=True)
    program_id: Mapped[str] = mapped_column(String(128), index=True)
    api_version: Mapped[str] = mapped_column(String(8))
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    modified_at: Mapped[datetime] = mapped_column(UTCDateTime)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False, index=True)


class DsoSubscription(Base):
    """A client's OpenADR 3 subscription (webhooks called when its objects change)."""

    __tablename__ = "dso_subscription"
    subscription_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(128), index=True)
    api_version: Mapped[str] = mapped_column(String(8))
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    modified_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DsoMessage(Base):
    """A grid operator's message already turned into events (the same message id twice creates nothing)."""

    __tablename__ = "dso_message"
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    message_id: Mapped[str] = mapped_column(String(256), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(128))
    event_ids: Mapped[list[str]] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)


#: the overlap check on every new event looks for live events ending after its start
EVENT_END_INDEX = Index("ix_event_end_at", Event.end_at)

"""SQLAlchemy models of the VTN store. Times are stored as naive UTC and read back aware."""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is always UTC-aware in Python, whatever the database keeps."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use UTC-aware datetimes")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None else None


class Base(DeclarativeBase):
    """Declarative base of the VTN store."""


class Ven(Base):
    """A VEN known to the VTN; `registration_id` is None while it is not registered."""

    __tablename__ = "ven"
    ven_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    ven_name: Mapped[str | None] = mapped_column(String(256), unique=True)
    registration_id: Mapped[str | None] = mapped_column(String(128), unique=True)
    profile_name: Mapped[str] = mapped_column(String(16), default="2.0b")
    transport_name: Mapped[str] = mapped_column(String(32), default="simpleHttp")
    transport_address: Mapped[str | None] = mapped_column(Text)
    http_pull_model: Mapped[bool] = mapped_column(Boolean, default=True)
    report_only: Mapped[bool] = mapped_column(Boolean, default=False)
    xml_signature: Mapped[bool] = mapped_column(Boolean, default=False)
    fingerprint: Mapped[str | None] = mapped_column(String(128))
    party_id: Mapped[str | None] = mapped_column(String(128))
    registered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Program(Base):
    """A program (market context) events belong to."""

    __tablename__ = "program"
    program_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    market_context: Mapped[str] = mapped_column(String(512), unique=True)
    name: Mapped[str] = mapped_column(String(256))


class GroupMember(Base):
    """A VEN (by name, so it may be configured before it registers) belonging to a group."""

    __tablename__ = "group_member"
    group_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    ven_name: Mapped[str] = mapped_column(String(256), primary_key=True)


class Resource(Base):
    """A resource (site device) of a VEN, addressable as an event target by resourceID."""

    __tablename__ = "resource"
    resource_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    ven_name: Mapped[str] = mapped_column(String(256), index=True)


class Event(Base):
    """The current revision of an event. `body` is the whole wire event (mapping.oadr.json_form);
    the other columns repeat what queries filter on."""

    __tablename__ = "event"
    event_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    market_context: Mapped[str] = mapped_column(String(512), index=True)
    modification_number: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), index=True)
    cancelled: Mapped[bool] = mapped_column(Boolean, default=False)
    priority: Mapped[int | None] = mapped_column(Integer)
    dtstart: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    end_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    source: Mapped[str] = mapped_column(String(256), default="cli")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    modified_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: Set once the event is completed or its cancelled window is over: no longer delivered.
    closed: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    body: Mapped[dict[str, Any]] = mapped_column(JSON)


class EventRevision(Base):
    """Every modification of an event, kept whole."""

    __tablename__ = "event_revision"
    __table_args__ = (Index("ix_event_revision_event_mod", "event_id", "modification_number", unique=True),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(ForeignKey("event.event_id"))
    modification_number: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str | None] = mapped_column(Text)
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class EventDelivery(Base):
    """When a VEN first received a given modification of an event."""

    __tablename__ = "event_delivery"
    ven_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    modification_number: Mapped[int] = mapped_column(Integer, primary_key=True)
    first_delivered_at: Mapped[datetime] = mapped_column(UTCDateTime)


class EventResponse(Base):
    """An eventResponse a VEN sent in oadrCreatedEvent (all kept; the latest counts)."""

    __tablename__ = "event_response"
    __table_args__ = (Index("ix_event_response_event_ven", "event_id", "ven_id"), Index("ix_event_response_ven", "ven_id", "id"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ven_id: Mapped[str] = mapped_column(String(128))
    event_id: Mapped[str] = mapped_column(String(128))
    modification_number: Mapped[int] = mapped_column(Integer)
    opt_type: Mapped[str] = mapped_column(String(8))
    response_code: Mapped[int] = mapped_column(Integer)
    response_description: Mapped[str] = mapped_column(Text, default="")
    request_id: Mapped[str] = mapped_column(String(256), default="")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Outbox(Base):
    """A VTN-initiated message waiting for a VEN's next poll (or push)."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_ven_pending", "ven_id", "delivered_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ven_id: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Change(Base):
    """Append-only change feed: lets every VTN process (and the CLI) see what others wrote."""

    __tablename__ = "change"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(256))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: which writer made the change (a VTN process's token, or "cli"); a process skips its own
    origin: Mapped[str] = mapped_column(String(64), default="cli", server_default="cli")


class EventStatusChange(Base):
    """Each status an event took, once per modification (revision 0010): the lifecycle's audit trail
    across processes and leader changes; the unique key makes a doubled transition impossible."""

    __tablename__ = "event_status_change"
    __table_args__ = (UniqueConstraint("event_id", "modification_number", "status", name="uq_event_status_change"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(ForeignKey("event.event_id"))
    modification_number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    origin: Mapped[str] = mapped_column(String(64))


class ReportDescription(Base):
    """A data point a VEN registered in oadrRegisterReport (replaced whole on re-registration)."""

    __tablename__ = "report_description"
    ven_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    report_specifier_id: Mapped[str] = mapped_column(String(256), primary_key=True)
    r_id: Mapped[str] = mapped_column(String(256), primary_key=True)
    report_name: Mapped[str] = mapped_column(String(128))
    report_type: Mapped[str] = mapped_column(String(64))
    reading_type: Mapped[str] = mapped_column(String(64))
    unit: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    min_period_s: Mapped[float | None] = mapped_column()
    max_period_s: Mapped[float | None] = mapped_column()
    on_change: Mapped[bool] = mapped_column(Boolean, default=False)
    market_context: Mapped[str | None] = mapped_column(String(512))
    data_source: Mapped[list[str]] = mapped_column(JSON, default=list)
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ReportRequest(Base):
    """A report the VTN asked a VEN for (oadrCreateReport or piggy-backed on oadrRegisteredReport)."""

    __tablename__ = "report_request"
    report_request_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    ven_id: Mapped[str] = mapped_column(String(128), index=True)
    report_specifier_id: Mapped[str] = mapped_column(String(256))
    report_name: Mapped[str] = mapped_column(String(128))
    granularity_s: Mapped[float] = mapped_column()
    report_back_s: Mapped[float] = mapped_column()
    interval_start: Mapped[datetime | None] = mapped_column(UTCDateTime)
    interval_duration_s: Mapped[float | None] = mapped_column()
    r_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: pending (not yet delivered), requested, acknowledged, unanswered (sent again, never answered), cancelling,
    #: cancelled
    state: Mapped[str] = mapped_column(String(16), default="pending")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ReportPoint(Base):
    """One reported value: a float, or a resource status (JSON)."""

    __tablename__ = "report_point"
    __table_args__ = (
        Index("ix_report_point_unique", "ven_id", "report_request_id", "r_id", "dtstart", unique=True),
        Index("ix_report_point_ven_time", "ven_id", "dtstart"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ven_id: Mapped[str] = mapped_column(String(128))
    report_request_id: Mapped[str] = mapped_column(String(128))
    report_specifier_id: Mapped[str] = mapped_column(String(256))
    report_name: Mapped[str | None] = mapped_column(String(128))
    r_id: Mapped[str] = mapped_column(String(256))
    reading_type: Mapped[str | None] = mapped_column(String(64))
    dtstart: Mapped[datetime] = mapped_column(UTCDateTime)
    duration_s: Mapped[float | None] = mapped_column()
    value: Mapped[float | None] = mapped_column()
    status: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    confidence: Mapped[int | None] = mapped_column(Integer)
    accuracy: Mapped[float | None] = mapped_column()
    data_quality: Mapped[str | None] = mapped_column(String(128))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Opt(Base):
    """An oadrCreateOpt: an availability schedule or an opt on one event."""

    __tablename__ = "opt"
    ven_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    opt_id: Mapped[str] = mapped_column(String(256), primary_key=True)
    opt_type: Mapped[str] = mapped_column(String(8))
    opt_reason: Mapped[str] = mapped_column(String(64))
    market_context: Mapped[str | None] = mapped_column(String(512))
    event_id: Mapped[str | None] = mapped_column(String(128), index=True)
    modification_number: Mapped[int | None] = mapped_column(Integer)
    windows: Mapped[list[list[str]]] = mapped_column(JSON, default=list)
    target: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

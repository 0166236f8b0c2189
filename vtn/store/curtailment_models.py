"""Store tables of achieved curtailment: which report request answers which event for which VEN."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from vtn.store.models import Base, UTCDateTime


class CurtailmentRequest(Base):
    """An x-ACHIEVED_CURTAILMENT report request made to a VEN for one event's window."""

    __tablename__ = "curtailment_request"
    report_request_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(128), index=True)
    ven_id: Mapped[str] = mapped_column(String(128), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CurtailmentScan(Base):
    """An ended event whose VENs were asked for their curtailment (asked once, whatever they answer)."""

    __tablename__ = "curtailment_scan"
    event_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    requested: Mapped[int] = mapped_column(Integer)  # how many VENs were asked (0: none offers the report)
    scanned_at: Mapped[datetime] = mapped_column(UTCDateTime)


class MeterReading(Base):
    """One step of a delivery point's load curve, as a meter operator delivered it (imported by CLI, API or UI).

    A later import of the same delivery point and step start replaces the value (a corrected curve) and
    counts a revision; `batch` names the import it came from.
    """

    __tablename__ = "meter_reading"
    __table_args__ = (Index("ix_meter_reading_point_start", "delivery_point", "start", unique=True),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    delivery_point: Mapped[str] = mapped_column(String(64))
    start: Mapped[datetime] = mapped_column(UTCDateTime)
    end: Mapped[datetime] = mapped_column(UTCDateTime)
    kw: Mapped[float] = mapped_column(Float)
    estimated: Mapped[bool] = mapped_column(Boolean, default=False)
    batch: Mapped[str] = mapped_column(String(64))
    revision: Mapped[int] = mapped_column(Integer, default=0)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime)


class MeterImport(Base):
    """One load-curve import: who, when, what file, how many steps it added and corrected (the audit trail)."""

    __tablename__ = "meter_import"
    batch: Mapped[str] = mapped_column(String(64), primary_key=True)
    source: Mapped[str] = mapped_column(String(256))
    actor: Mapped[str] = mapped_column(String(128))
    delivery_points: Mapped[int] = mapped_column(Integer)
    added: Mapped[int] = mapped_column(Integer)
    corrected: Mapped[int] = mapped_column(Integer)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SettlementStatement(Base):
    """An issued settlement statement: its content (JSON) and fingerprint never change once written.

    A re-issue over the same scope and period is a new row that names the one it supersedes and why.
    """

    __tablename__ = "settlement_statement"
    __table_args__ = (Index("ix_settlement_scope", "scope_kind", "scope_key", "period_start"),)
    statement_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    scope_kind: Mapped[str] = mapped_column(String(16))
    scope_key: Mapped[str] = mapped_column(String(512))
    period_start: Mapped[datetime] = mapped_column(UTCDateTime)
    period_end: Mapped[datetime] = mapped_column(UTCDateTime)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    issued_by: Mapped[str] = mapped_column(String(128))
    reason: Mapped[str | None] = mapped_column(String(1024))
    supersedes: Mapped[str | None] = mapped_column(String(64))
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    content_hash: Mapped[str] = mapped_column(String(64))

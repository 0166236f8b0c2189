"""Store tables of achieved curtailment: which report request answers which event for which VEN."""

from datetime import datetime

from sqlalchemy import Integer, String
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

"""Queries of achieved curtailment: ended events to ask about, requests made, the points that came back."""

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from mapping.curtailment import report as wire
from vtn.domain import LiveEvent
from vtn.store import models as db
from vtn.store.curtailment_models import CurtailmentRequest, CurtailmentScan
from vtn.store.repository import load_event


def ended_unscanned(session: Session, ended_before: datetime, ended_after: datetime, limit: int = 500) -> list[LiveEvent]:
    """Events that ended in [ended_after, ended_before], not cancelled, whose VENs were not asked yet."""
    scanned = select(CurtailmentScan.event_id)
    rows = session.scalars(
        select(db.Event)
        .where(db.Event.cancelled.is_(False))
        .where(db.Event.end_at.is_not(None))
        .where(db.Event.end_at <= ended_before)
        .where(db.Event.end_at >= ended_after)
        .where(db.Event.event_id.not_in(scanned))
        .order_by(db.Event.end_at)
        .limit(limit)
    )
    return [found[0] for row in rows if (found := load_event(session, row.event_id)) is not None]


def offering(session: Session, ven_ids: Iterable[str]) -> set[str]:
    """The VENs among `ven_ids` that registered an x-ACHIEVED_CURTAILMENT report."""
    return set(
        session.scalars(
            select(db.ReportDescription.ven_id)
            .where(db.ReportDescription.ven_id.in_(list(ven_ids)))
            .where(db.ReportDescription.report_name == wire.REPORT_NAME)
            .distinct()
        )
    )


def record_request(session: Session, event_id: str, ven_id: str, report_request_id: str, now: datetime) -> None:
    """Remember which request answers for (event, VEN)."""
    session.add(CurtailmentRequest(report_request_id=report_request_id, event_id=event_id, ven_id=ven_id, created_at=now))


def record_scan(session: Session, event_id: str, requested: int, now: datetime) -> None:
    """The event's VENs were asked (`requested` of them)."""
    session.add(CurtailmentScan(event_id=event_id, requested=requested, scanned_at=now))


def requests_for_event(session: Session, event_id: str) -> list[tuple[str, str]]:
    """(venID, reportRequestID) of every curtailment request made for the event."""
    query = select(CurtailmentRequest.ven_id, CurtailmentRequest.report_request_id).where(CurtailmentRequest.event_id == event_id)
    return [(ven_id, request_id) for ven_id, request_id in session.execute(query.order_by(CurtailmentRequest.ven_id))]


def events_for_ven(session: Session, ven_id: str, limit: int = 1000) -> list[str]:
    """Event ids a VEN was asked about, newest request first."""
    query = select(CurtailmentRequest.event_id).where(CurtailmentRequest.ven_id == ven_id)
    return list(session.scalars(query.order_by(CurtailmentRequest.created_at.desc()).limit(limit)))


#: (rID, dtstart, value, data quality) of one reported value
Point = tuple[str, datetime, float | None, str | None]


def points_of(session: Session, report_request_ids: Iterable[str]) -> dict[str, list[Point]]:
    """reportRequestID → what the VEN reported for it, oldest first."""
    found: dict[str, list[Point]] = {}
    point = db.ReportPoint
    query = (
        select(point.report_request_id, point.r_id, point.dtstart, point.value, point.data_quality)
        .where(db.ReportPoint.report_request_id.in_(list(report_request_ids)))
        .order_by(db.ReportPoint.dtstart, db.ReportPoint.id)
    )
    for request_id, r_id, dtstart, value, quality in session.execute(query):
        found.setdefault(request_id, []).append((r_id, dtstart, value, quality))
    return found


def ven_names(session: Session, ven_ids: Iterable[str]) -> dict[str, str]:
    """venID → oadrVenName (the venID where it has none)."""
    rows = session.execute(select(db.Ven.ven_id, db.Ven.ven_name).where(db.Ven.ven_id.in_(list(ven_ids))))
    return {ven_id: name or ven_id for ven_id, name in rows}


def program_event_starts(session: Session, market_context: str, since: datetime, before: datetime) -> list[datetime]:
    """Starts of the program's events (not cancelled) in [since, before): the days an x-of-y baseline passes over."""
    query = (
        select(db.Event.dtstart)
        .where(db.Event.market_context == market_context)
        .where(db.Event.cancelled.is_(False))
        .where(db.Event.dtstart >= since)
        .where(db.Event.dtstart < before)
    )
    return list(session.scalars(query))


def delivered_vens(session: Session, event_id: str) -> list[str]:
    """The VENs the event was delivered to."""
    return list(session.scalars(select(db.EventDelivery.ven_id).where(db.EventDelivery.event_id == event_id).distinct()))

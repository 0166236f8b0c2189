"""Read side of the operator's VEN pages: VENs in keyset pages in site-name order, with what they registered,
opted and answered to events."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from vtn.store import models as db


@dataclass(frozen=True)
class VenSummary:
    """One VEN as the operator sees it."""

    ven_id: str
    ven_name: str | None
    registration_id: str | None
    registered_at: datetime | None
    last_seen_at: datetime | None
    transport_name: str
    transport_address: str | None
    http_pull_model: bool
    fingerprint: str | None
    reports: tuple[str, ...]
    opt_schedules: int


#: a VEN's place in the list: its site name (oadrVenName), or its venID when it gave no name
SITE_KEY = func.coalesce(db.Ven.ven_name, db.Ven.ven_id)


def ven_page(
    session: Session, after: tuple[str, str] | None = None, name_like: str | None = None, size: int = 100
) -> tuple[list[VenSummary], bool]:
    """VENs ordered by site name then venID, after the (site name, venID) `after`, and whether more follow."""
    query = select(db.Ven).order_by(SITE_KEY, db.Ven.ven_id)
    if after:
        key, ven_id = after
        query = query.where((SITE_KEY > key) | ((SITE_KEY == key) & (db.Ven.ven_id > ven_id)))
    if name_like:
        query = query.where(
            db.Ven.ven_name.contains(name_like, autoescape=True) | db.Ven.ven_id.contains(name_like, autoescape=True)
        )
    rows = list(session.scalars(query.limit(size + 1)))
    return summarise(session, rows[:size]), len(rows) > size


def summarise(session: Session, rows: list[db.Ven]) -> list[VenSummary]:
    """Add registered report names and open opt schedules to VEN rows (two grouped queries)."""
    ids = [r.ven_id for r in rows]
    reports: dict[str, set[str]] = {}
    for ven_id, name in session.execute(
        select(db.ReportDescription.ven_id, db.ReportDescription.report_name)
        .where(db.ReportDescription.ven_id.in_(ids))
        .distinct()
    ):
        reports.setdefault(ven_id, set()).add(name)
    schedules = dict(
        session.execute(
            select(db.Opt.ven_id, func.count())
            .where(db.Opt.ven_id.in_(ids), db.Opt.event_id.is_(None), db.Opt.cancelled_at.is_(None))
            .group_by(db.Opt.ven_id)
        ).all()
    )
    return [
        VenSummary(
            ven_id=r.ven_id,
            ven_name=r.ven_name,
            registration_id=r.registration_id,
            registered_at=r.registered_at,
            last_seen_at=r.last_seen_at,
            transport_name=r.transport_name,
            transport_address=r.transport_address,
            http_pull_model=r.http_pull_model,
            fingerprint=r.fingerprint,
            reports=tuple(sorted(reports.get(r.ven_id, ()))),
            opt_schedules=schedules.get(r.ven_id, 0),
        )
        for r in rows
    ]


def vens_by_name(session: Session, names: list[str]) -> dict[str, tuple[str, datetime | None]]:
    """oadrVenName → (venID, last seen) for the named VENs (the map's sites)."""
    rows = session.execute(select(db.Ven.ven_name, db.Ven.ven_id, db.Ven.last_seen_at).where(db.Ven.ven_name.in_(names)))
    return {name: (ven_id, seen) for name, ven_id, seen in rows}


def one_ven(session: Session, ven_id: str) -> VenSummary | None:
    """One VEN's summary."""
    row = session.get(db.Ven, ven_id)
    return summarise(session, [row])[0] if row else None


@dataclass(frozen=True)
class EventAnswer:
    """A VEN's latest eventResponse (oadrCreatedEvent) to one event."""

    event_id: str
    modification_number: int
    opt_type: str
    response_code: int
    received_at: datetime


def event_answers(session: Session, ven_id: str, limit: int = 50) -> list[EventAnswer]:
    """The VEN's latest optIn/optOut per event, newest first, at most `limit` events."""
    latest = select(func.max(db.EventResponse.id)).where(db.EventResponse.ven_id == ven_id).group_by(db.EventResponse.event_id)
    rows = session.scalars(
        select(db.EventResponse).where(db.EventResponse.id.in_(latest)).order_by(db.EventResponse.id.desc()).limit(limit)
    )
    return [EventAnswer(r.event_id, r.modification_number, r.opt_type, r.response_code, r.received_at) for r in rows]

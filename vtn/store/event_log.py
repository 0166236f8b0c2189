"""Read side of the operator's event log: filtered keyset pages, CSV rows, per-VEN delivery of one event.

Every page is one indexed range scan (ORDER BY the sort column and event_id, a LIMIT, and a
"strictly after the last row" condition instead of an OFFSET), so page 2,000 of 100,000 events
costs what page 1 costs. Per-row delivery and opt counts are aggregated for the page's events only.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, literal, select, tuple_
from sqlalchemy.orm import Session

from mapping.oadr import model as m
from mapping.oadr.json_form import event_from_json
from mapping.oadr.model import EventStatus, OptType
from vtn.store import models as db
from vtn.store.models import UTCDateTime

SORTS = {"dtstart": db.Event.dtstart, "created": db.Event.created_at}
STATUSES = tuple(s for s in EventStatus if s is not EventStatus.NONE)


@dataclass(frozen=True)
class EventFilter:
    """What the operator asked the event log for. `after` is the (sort value, event_id) of the last row seen."""

    status: str | None = None
    market_context: str | None = None
    ven_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    sort: str = "dtstart"
    descending: bool = True
    after: tuple[datetime, str] | None = None


@dataclass(frozen=True)
class EventRow:
    """One line of the event log."""

    event: m.Event
    source: str
    cancelled: bool
    created_at: datetime
    modified_at: datetime
    delivered: int
    opted_in: int
    opted_out: int

    def cursor_value(self, sort: str) -> datetime:
        """The value of the sort column (for the next page's cursor)."""
        return self.created_at if sort == "created" else self.event.dtstart


def _query(flt: EventFilter) -> Any:
    column = SORTS[flt.sort]
    query = select(db.Event)
    if flt.status:
        query = query.where(db.Event.status == flt.status)
    if flt.market_context:
        query = query.where(db.Event.market_context == flt.market_context)
    if flt.ven_id:
        delivered = select(db.EventDelivery.event_id).where(db.EventDelivery.ven_id == flt.ven_id)
        query = query.where(db.Event.event_id.in_(delivered))
    if flt.since:
        query = query.where(db.Event.dtstart >= flt.since)
    if flt.until:
        query = query.where(db.Event.dtstart < flt.until)
    key = tuple_(column, db.Event.event_id)
    if flt.after is not None:
        # bound with the columns' own types: a bare datetime would be sent as TIMESTAMP WITH TIME ZONE and
        # compared in the session's time zone against the naive UTC column
        moment, event_id = flt.after
        cursor = tuple_(literal(moment, UTCDateTime()), literal(event_id, db.Event.event_id.type))
        query = query.where(key < cursor if flt.descending else key > cursor)
    if flt.descending:
        return query.order_by(column.desc(), db.Event.event_id.desc())
    return query.order_by(column, db.Event.event_id)


def _counts(session: Session, event_ids: list[str]) -> tuple[dict[str, int], dict[tuple[str, str], int]]:
    """VENs delivered per event, and VENs per (event, latest optType)."""
    delivered = dict(
        session.execute(
            select(db.EventDelivery.event_id, func.count(func.distinct(db.EventDelivery.ven_id)))
            .where(db.EventDelivery.event_id.in_(event_ids))
            .group_by(db.EventDelivery.event_id)
        ).all()
    )
    latest = (
        select(func.max(db.EventResponse.id))
        .where(db.EventResponse.event_id.in_(event_ids))
        .group_by(db.EventResponse.event_id, db.EventResponse.ven_id)
    )
    opted = session.execute(
        select(db.EventResponse.event_id, db.EventResponse.opt_type, func.count())
        .where(db.EventResponse.id.in_(latest))
        .group_by(db.EventResponse.event_id, db.EventResponse.opt_type)
    ).all()
    return delivered, {(e, o): n for e, o, n in opted}


def event_page(session: Session, flt: EventFilter, size: int = 50) -> tuple[list[EventRow], bool]:
    """One page of events matching `flt`, and whether more follow."""
    rows = list(session.scalars(_query(flt).limit(size + 1)))
    more = len(rows) > size
    rows = rows[:size]
    delivered, opted = _counts(session, [r.event_id for r in rows])
    return [
        EventRow(
            event=event_from_json(r.body),
            source=r.source,
            cancelled=r.cancelled,
            created_at=r.created_at,
            modified_at=r.modified_at,
            delivered=delivered.get(r.event_id, 0),
            opted_in=opted.get((r.event_id, OptType.OPT_IN), 0),
            opted_out=opted.get((r.event_id, OptType.OPT_OUT), 0),
        )
        for r in rows
    ], more


@dataclass(frozen=True)
class VenDelivery:
    """How one event reached one VEN."""

    ven_id: str
    ven_name: str | None
    first_delivered: datetime | None
    delivered_modification: int | None
    acknowledged_modification: int | None
    opt_type: str | None
    response_code: int | None
    responded_at: datetime | None


def event_delivery(session: Session, event_id: str) -> list[VenDelivery]:
    """Per VEN: first delivery, newest modification delivered, newest acknowledged, latest optIn/optOut."""
    first: dict[str, tuple[datetime, int]] = {}
    for r in session.execute(
        select(
            db.EventDelivery.ven_id, func.min(db.EventDelivery.first_delivered_at), func.max(db.EventDelivery.modification_number)
        )
        .where(db.EventDelivery.event_id == event_id)
        .group_by(db.EventDelivery.ven_id)
    ):
        first[r[0]] = (r[1], r[2])
    answers: dict[str, db.EventResponse] = {}
    acknowledged: dict[str, int] = {}
    for r in session.scalars(select(db.EventResponse).where(db.EventResponse.event_id == event_id).order_by(db.EventResponse.id)):
        answers[r.ven_id] = r
        acknowledged[r.ven_id] = max(acknowledged.get(r.ven_id, -1), r.modification_number)
    ven_ids = sorted(set(first) | set(answers))
    names = dict(session.execute(select(db.Ven.ven_id, db.Ven.ven_name).where(db.Ven.ven_id.in_(ven_ids))).all())
    result = []
    for ven_id in ven_ids:
        at, mod = first.get(ven_id, (None, None))
        answer = answers.get(ven_id)
        result.append(
            VenDelivery(
                ven_id=ven_id,
                ven_name=names.get(ven_id),
                first_delivered=at,
                delivered_modification=mod,
                acknowledged_modification=acknowledged.get(ven_id),
                opt_type=answer.opt_type if answer else None,
                response_code=answer.response_code if answer else None,
                responded_at=answer.received_at if answer else None,
            )
        )
    return result


def event_meta(session: Session, event_id: str) -> tuple[m.Event, str, bool, bool, datetime, datetime] | None:
    """(event, source, cancelled, closed, created, modified) of one event."""
    row = session.get(db.Event, event_id)
    if row is None:
        return None
    return event_from_json(row.body), row.source, row.cancelled, row.closed, row.created_at, row.modified_at


def event_history(session: Session, event_id: str) -> list[tuple[int, str | None, datetime, str]]:
    """(modificationNumber, reason, time, status) of every revision of an event, oldest first."""
    rows = session.scalars(
        select(db.EventRevision).where(db.EventRevision.event_id == event_id).order_by(db.EventRevision.modification_number)
    )
    return [(r.modification_number, r.reason, r.created_at, str(r.snapshot.get("status", ""))) for r in rows]

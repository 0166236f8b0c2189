"""Store functions for report metadata, report requests, report data and opts."""

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from mapping.oadr import report_model as r
from mapping.oadr.json_form import target_to_json, unit_from_json, unit_to_json
from mapping.oadr.timefmt import format_datetime, parse_datetime
from vtn.domain import OutboxKind
from vtn.store import models as db
from vtn.store.repository import note_change

#: a stored report point's fields, in the order exports (CLI and UI CSV) write them
POINT_COLUMNS = (
    "ven_id",
    "report_name",
    "r_id",
    "reading_type",
    "dtstart",
    "duration_s",
    "value",
    "status",
    "confidence",
    "accuracy",
    "data_quality",
    "report_request_id",
    "received_at",
)


def _seconds(value: timedelta | None) -> float | None:
    return value.total_seconds() if value is not None else None


# --- metadata -------------------------------------------------------------------------------


def replace_descriptions(session: Session, ven_id: str, reports: Iterable[r.ReportMetadata], now: datetime) -> int:
    """Replace everything a VEN registered with the reports of its latest oadrRegisterReport."""
    session.execute(delete(db.ReportDescription).where(db.ReportDescription.ven_id == ven_id))
    note_change(session, "report_meta", ven_id, now)
    count = 0
    for report in reports:
        for d in report.descriptions:
            session.add(
                db.ReportDescription(
                    ven_id=ven_id,
                    report_specifier_id=report.report_specifier_id,
                    r_id=d.r_id,
                    report_name=report.report_name,
                    report_type=d.report_type,
                    reading_type=d.reading_type,
                    unit=unit_to_json(d.unit),
                    min_period_s=_seconds(d.sampling.min_period) if d.sampling else None,
                    max_period_s=_seconds(d.sampling.max_period) if d.sampling else None,
                    on_change=d.sampling.on_change if d.sampling else False,
                    market_context=d.market_context,
                    data_source=list(d.data_source),
                    registered_at=now,
                )
            )
            count += 1
    return count


def descriptions(session: Session, ven_id: str) -> list[tuple[str, str, r.ReportDescription]]:
    """(reportSpecifierID, reportName, description) of everything a VEN registered."""
    return [(specifier, name, d) for _ven, specifier, name, d in descriptions_of(session, [ven_id])]


def descriptions_of(session: Session, ven_ids: Iterable[str]) -> list[tuple[str, str, str, r.ReportDescription]]:
    """(venID, reportSpecifierID, reportName, description) of everything these VENs registered, in one query."""
    rows = session.scalars(select(db.ReportDescription).where(db.ReportDescription.ven_id.in_(set(ven_ids))))
    return [
        (
            row.ven_id,
            row.report_specifier_id,
            row.report_name,
            r.ReportDescription(
                r_id=row.r_id,
                report_type=row.report_type,
                reading_type=row.reading_type,
                unit=unit_from_json(row.unit),
                sampling=r.SamplingRate(timedelta(seconds=row.min_period_s), timedelta(seconds=row.max_period_s), row.on_change)
                if row.min_period_s is not None and row.max_period_s is not None
                else None,
                market_context=row.market_context,
                data_source=tuple(row.data_source or ()),
            ),
        )
        for row in rows
    ]


# --- requests -------------------------------------------------------------------------------


def save_request(session: Session, ven_id: str, request: r.ReportRequest, report_name: str, state: str, now: datetime) -> None:
    """Store a report request the VTN makes."""
    session.add(
        db.ReportRequest(
            report_request_id=request.report_request_id,
            ven_id=ven_id,
            report_specifier_id=request.report_specifier_id,
            report_name=report_name,
            granularity_s=request.granularity.total_seconds(),
            report_back_s=request.report_back.total_seconds(),
            interval_start=request.interval_start,
            interval_duration_s=_seconds(request.interval_duration),
            r_ids=[p.r_id for p in request.payloads],
            state=state,
            created_at=now,
            updated_at=now,
        )
    )


def set_request_state(session: Session, request_ids: Iterable[str], state: str, now: datetime) -> None:
    """Move report requests to `state`."""
    ids = list(request_ids)
    if ids:
        session.execute(
            update(db.ReportRequest).where(db.ReportRequest.report_request_id.in_(ids)).values(state=state, updated_at=now)
        )


def unanswered_requests(session: Session) -> list[tuple[str, str, datetime]]:
    """(ven_id, report_request_id, when last sent) of every request sent and not answered (state `requested`)."""
    query = select(db.ReportRequest.ven_id, db.ReportRequest.report_request_id, db.ReportRequest.updated_at).where(
        db.ReportRequest.state == "requested"
    )
    return [(ven_id, request_id, sent) for ven_id, request_id, sent in session.execute(query)]


def resends(session: Session, ven_id: str) -> tuple[dict[str, int], set[str]]:
    """How often each of a VEN's report requests was queued again (`resend` in the outbox payload), and those of
    them still waiting in its outbox."""
    query = select(db.Outbox.payload, db.Outbox.delivered_at).where(
        db.Outbox.ven_id == ven_id, db.Outbox.kind == OutboxKind.CREATE_REPORT
    )
    counts: dict[str, int] = {}
    queued: set[str] = set()
    for payload, delivered in session.execute(query):
        if not payload.get("resend"):
            continue
        for request_id in payload.get("report_request_ids", []):
            counts[request_id] = counts.get(request_id, 0) + 1
            if delivered is None:
                queued.add(request_id)
    return counts, queued


def _request(row: db.ReportRequest) -> r.ReportRequest:
    return r.ReportRequest(
        report_request_id=row.report_request_id,
        report_specifier_id=row.report_specifier_id,
        granularity=timedelta(seconds=row.granularity_s),
        report_back=timedelta(seconds=row.report_back_s),
        interval_start=row.interval_start,
        interval_duration=timedelta(seconds=row.interval_duration_s) if row.interval_duration_s is not None else None,
        payloads=tuple(r.SpecifierPayload(r_id=x) for x in row.r_ids or ()),
    )


def requests_by_id(session: Session, request_ids: Iterable[str]) -> dict[str, tuple[str, r.ReportRequest, str, str]]:
    """report_request_id → (ven_id, request, report name, state)."""
    rows = session.scalars(select(db.ReportRequest).where(db.ReportRequest.report_request_id.in_(list(request_ids))))
    return {row.report_request_id: (row.ven_id, _request(row), row.report_name, row.state) for row in rows}


def list_requests(session: Session, ven_id: str | None = None) -> list[tuple[str, r.ReportRequest, str, str]]:
    """(ven_id, request, report name, state), newest first."""
    query = select(db.ReportRequest).order_by(db.ReportRequest.created_at.desc())
    if ven_id:
        query = query.where(db.ReportRequest.ven_id == ven_id)
    return [(row.ven_id, _request(row), row.report_name, row.state) for row in session.scalars(query)]


# --- data -----------------------------------------------------------------------------------


def store_batch(session: Session, items: list[tuple[str, list[dict[str, Any]]]], now: datetime) -> list[tuple[int, int]]:
    """Store the report points of several messages (VEN, rows of ReportPoint columns) in one executemany.

    A point already stored (same VEN, request, rID and interval start) is skipped, so a resent report
    is acknowledged without being stored twice. Returns (stored, duplicates) per message.
    """
    points = [p for _, rows in items for p in rows]
    if not points:
        return [(0, 0) for _ in items]
    table = db.ReportPoint.__table__
    starts = [p["dtstart"] for p in points]
    existing = {
        (row.ven_id, row.report_request_id, row.r_id, row.dtstart)
        for row in session.execute(
            select(table.c.ven_id, table.c.report_request_id, table.c.r_id, table.c.dtstart).where(
                table.c.ven_id.in_({ven_id for ven_id, _ in items}),
                table.c.report_request_id.in_({p["report_request_id"] for p in points}),
                table.c.dtstart >= min(starts),
                table.c.dtstart <= max(starts),
            )
        )
    }
    fresh: list[dict[str, Any]] = []
    results = []
    for ven_id, rows in items:
        stored = 0
        for p in rows:
            key = (ven_id, p["report_request_id"], p["r_id"], p["dtstart"])
            if key not in existing:
                existing.add(key)
                fresh.append({**p, "ven_id": ven_id, "received_at": now})
                stored += 1
        results.append((stored, len(rows) - stored))
    if fresh:
        session.execute(table.insert(), fresh)
    return results


def store_points(session: Session, ven_id: str, points: list[dict[str, Any]], now: datetime) -> tuple[int, int]:
    """Store one message's report points; returns (stored, duplicates skipped)."""
    return store_batch(session, [(ven_id, points)], now)[0]


def offered_reading_types(session: Session, ven_id: str) -> dict[tuple[str, str], str]:
    """(reportSpecifierID, rID) → readingType of everything a VEN registered."""
    rows = session.execute(
        select(db.ReportDescription.report_specifier_id, db.ReportDescription.r_id, db.ReportDescription.reading_type).where(
            db.ReportDescription.ven_id == ven_id
        )
    )
    return {(spec, r_id): reading for spec, r_id, reading in rows}


def request_owners(session: Session, request_ids: Iterable[str]) -> dict[str, str]:
    """report_request_id → the VEN it was made to."""
    rows = session.execute(
        select(db.ReportRequest.report_request_id, db.ReportRequest.ven_id).where(
            db.ReportRequest.report_request_id.in_(list(request_ids))
        )
    )
    return {request_id: ven_id for request_id, ven_id in rows}


def points(
    session: Session,
    ven_id: str | None = None,
    report_name: str | None = None,
    r_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 100_000,
) -> list[dict[str, Any]]:
    """Stored report points as plain rows, oldest first."""
    query = select(db.ReportPoint)
    if ven_id:
        query = query.where(db.ReportPoint.ven_id == ven_id)
    if report_name:
        query = query.where(db.ReportPoint.report_name == report_name)
    if r_id:
        query = query.where(db.ReportPoint.r_id == r_id)
    if since:
        query = query.where(db.ReportPoint.dtstart >= since)
    if until:
        query = query.where(db.ReportPoint.dtstart < until)
    rows = session.scalars(query.order_by(db.ReportPoint.dtstart, db.ReportPoint.id).limit(limit))
    return [
        {
            "ven_id": p.ven_id,
            "report_name": p.report_name,
            "report_request_id": p.report_request_id,
            "r_id": p.r_id,
            "reading_type": p.reading_type,
            "dtstart": format_datetime(p.dtstart),
            "duration_s": p.duration_s,
            "value": p.value,
            "status": p.status,
            "confidence": p.confidence,
            "accuracy": p.accuracy,
            "data_quality": p.data_quality,
            "received_at": format_datetime(p.received_at),
        }
        for p in rows
    ]


# --- opts -----------------------------------------------------------------------------------


def find_opt(session: Session, ven_id: str, opt_id: str) -> db.Opt | None:
    """An opt by VEN and optID."""
    return session.get(db.Opt, (ven_id, opt_id))


def _window(start: datetime, length: timedelta) -> list[str | None]:
    return [format_datetime(start), format_datetime(start + length) if length > timedelta(0) else None]  # 0 = open-ended


def save_opt(session: Session, opt: r.CreateOpt, now: datetime) -> bool:
    """Store an oadrCreateOpt; an existing opt with the same optID is replaced (returns True then)."""
    existing = find_opt(session, opt.ven_id, opt.opt_id)
    if existing is not None:
        session.delete(existing)
        session.flush()
    session.add(
        db.Opt(
            ven_id=opt.ven_id,
            opt_id=opt.opt_id,
            opt_type=opt.opt_type,
            opt_reason=opt.opt_reason,
            market_context=opt.market_context,
            event_id=opt.event_id,
            modification_number=opt.modification_number,
            windows=[_window(start, length) for start, length in opt.windows],
            target=target_to_json(opt.target),
            created_at=opt.created,
            received_at=now,
        )
    )
    return existing is not None


def cancel_opt(session: Session, ven_id: str, opt_id: str, now: datetime) -> bool:
    """Mark an opt cancelled; False when there is no such (active) opt."""
    row = find_opt(session, ven_id, opt_id)
    if row is None or row.cancelled_at is not None:
        return False
    row.cancelled_at = now
    return True


def opts_covering(
    session: Session, event_id: str, start: datetime, end: datetime | None, market_context: str
) -> list[dict[str, Any]]:
    """Active opts that apply to an event: opts on the event itself, and schedules overlapping its window."""
    rows = session.scalars(select(db.Opt).where(db.Opt.cancelled_at.is_(None)))
    found = []
    for row in rows:
        applies = row.event_id == event_id
        if row.event_id is None and row.market_context in (None, "", market_context):
            applies = any(
                (end is None or parse_datetime(a) < end) and (b is None or parse_datetime(b) > start) for a, b in row.windows
            )
        if applies:
            found.append(
                {
                    "ven_id": row.ven_id,
                    "opt_id": row.opt_id,
                    "opt_type": row.opt_type,
                    "opt_reason": row.opt_reason,
                    "event_id": row.event_id,
                    "windows": row.windows,
                    "received_at": format_datetime(row.received_at),
                }
            )
    return found


def list_opts(session: Session, ven_id: str | None = None) -> list[dict[str, Any]]:
    """Every opt (of one VEN), newest first."""
    query = select(db.Opt).order_by(db.Opt.received_at.desc())
    if ven_id:
        query = query.where(db.Opt.ven_id == ven_id)
    return [
        {
            "ven_id": o.ven_id,
            "opt_id": o.opt_id,
            "opt_type": o.opt_type,
            "opt_reason": o.opt_reason,
            "event_id": o.event_id,
            "modification_number": o.modification_number,
            "windows": o.windows,
            "cancelled_at": format_datetime(o.cancelled_at) if o.cancelled_at else None,
        }
        for o in session.scalars(query)
    ]

"""The store's narrow interface: plain functions over a Session, returning domain records."""

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from mapping.oadr import model as m
from mapping.oadr.json_form import event_from_json, event_to_json
from mapping.oadr.lifecycle import event_end
from vtn.domain import LiveEvent, OutboxItem, VenRecord
from vtn.store import models as db
from vtn.store.event_status import record_status

# --- change feed ----------------------------------------------------------------------------


def note_change(session: Session, kind: str, key: str, now: datetime) -> None:
    """Append to the change feed so other processes reload `kind`/`key` (tagged with the writer's origin)."""
    session.add(db.Change(kind=kind, key=key, at=now, origin=session.info.get("origin", "cli")))


def last_change_id(session: Session) -> int:
    """The newest change id (0 for an empty feed)."""
    return session.scalar(select(func.max(db.Change.id))) or 0


def change_ids_between(session: Session, low: int, high: int) -> set[int]:
    """The ids in the change feed from `low` to `high` (both included) that are committed."""
    return set(session.scalars(select(db.Change.id).where(db.Change.id >= low, db.Change.id <= high)))


def changes_since(session: Session, after: int, limit: int = 10000, also: Iterable[int] = ()) -> list[tuple[int, str, str, str]]:
    """(id, kind, key, origin) of changes newer than `after` (and of the ids in `also`: holes seen
    earlier), oldest first."""
    wanted = db.Change.id > after
    holes = list(also)
    if holes:
        wanted = wanted | db.Change.id.in_(holes)
    rows = session.execute(
        select(db.Change.id, db.Change.kind, db.Change.key, db.Change.origin).where(wanted).order_by(db.Change.id).limit(limit)
    )
    return [(r.id, r.kind, r.key, r.origin) for r in rows]


# --- VENs, groups, resources, programs ----------------------------------------------------------


def _ven_record(row: db.Ven) -> VenRecord:
    return VenRecord(
        ven_id=row.ven_id,
        ven_name=row.ven_name,
        registration_id=row.registration_id,
        profile_name=row.profile_name,
        transport_name=row.transport_name,
        transport_address=row.transport_address,
        http_pull_model=row.http_pull_model,
        report_only=row.report_only,
        xml_signature=row.xml_signature,
        fingerprint=row.fingerprint,
        party_id=row.party_id,
    )


def load_vens(session: Session) -> list[VenRecord]:
    """Every VEN the VTN knows."""
    return [_ven_record(r) for r in session.scalars(select(db.Ven))]


def load_vens_by_id(session: Session, ven_ids: Iterable[str]) -> list[VenRecord]:
    """The VENs among `ven_ids` (one query)."""
    return [_ven_record(r) for r in session.scalars(select(db.Ven).where(db.Ven.ven_id.in_(list(ven_ids))))]


def load_ven(session: Session, ven_id: str) -> VenRecord | None:
    """One VEN by venID."""
    row = session.get(db.Ven, ven_id)
    return _ven_record(row) if row else None


def find_ven_by_name(session: Session, ven_name: str) -> VenRecord | None:
    """One VEN by oadrVenName."""
    row = session.scalar(select(db.Ven).where(db.Ven.ven_name == ven_name))
    return _ven_record(row) if row else None


def save_ven(session: Session, record: VenRecord, now: datetime, registered: bool) -> None:
    """Insert or update a VEN from `record` (registration time set when `registered`)."""
    row = session.get(db.Ven, record.ven_id) or db.Ven(ven_id=record.ven_id)
    for name in (
        "ven_name",
        "registration_id",
        "profile_name",
        "transport_name",
        "transport_address",
        "http_pull_model",
        "report_only",
        "xml_signature",
        "fingerprint",
        "party_id",
    ):
        setattr(row, name, getattr(record, name))
    row.updated_at = now
    if registered:
        row.registered_at = now
    session.add(row)
    note_change(session, "ven", record.ven_id, now)


def touch_vens(session: Session, seen: dict[str, datetime]) -> None:
    """Record when VENs were last heard from (one executemany, not one statement per VEN)."""
    if not seen:
        return
    table = db.Ven.__table__
    statement = table.update().where(table.c.ven_id == bindparam("b_ven")).values(last_seen_at=bindparam("b_at"))
    session.connection().execute(statement, [{"b_ven": ven_id, "b_at": at} for ven_id, at in seen.items()])


def load_memberships(session: Session) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """(groups by VEN name, resources by VEN name)."""
    groups: dict[str, set[str]] = {}
    for row in session.scalars(select(db.GroupMember)):
        groups.setdefault(row.ven_name, set()).add(row.group_id)
    resources: dict[str, set[str]] = {}
    for row in session.scalars(select(db.Resource)):
        resources.setdefault(row.ven_name, set()).add(row.resource_id)
    return groups, resources


def sync_configuration(
    session: Session,
    programs: Iterable[tuple[str, str, str]],
    groups: dict[str, tuple[str, ...]],
    resources: dict[str, tuple[str, ...]],
    now: datetime,
) -> None:
    """Make the configured programs, groups and resources present (adds; never deletes)."""
    for program_id, market_context, name in programs:
        row = session.get(db.Program, program_id) or db.Program(program_id=program_id)
        row.market_context, row.name = market_context, name
        session.add(row)
    for group_id, names in groups.items():
        for name in names:
            if session.get(db.GroupMember, (group_id, name)) is None:
                session.add(db.GroupMember(group_id=group_id, ven_name=name))
    for ven_name, resource_ids in resources.items():
        for resource_id in resource_ids:
            row = session.get(db.Resource, resource_id) or db.Resource(resource_id=resource_id)
            row.ven_name = ven_name
            session.add(row)
    note_change(session, "membership", "*", now)


def set_group_members(session: Session, group_id: str, ven_names: Iterable[str], now: datetime) -> None:
    """Add VENs (by name) to a group."""
    for name in ven_names:
        if session.get(db.GroupMember, (group_id, name)) is None:
            session.add(db.GroupMember(group_id=group_id, ven_name=name))
    note_change(session, "membership", group_id, now)


def list_programs(session: Session) -> list[tuple[str, str, str]]:
    """(program_id, market_context, name) of every program."""
    return [(r.program_id, r.market_context, r.name) for r in session.scalars(select(db.Program).order_by(db.Program.program_id))]


# --- events ---------------------------------------------------------------------------------


def _live(row: db.Event) -> LiveEvent:
    return LiveEvent(event=event_from_json(row.body), cancelled=row.cancelled, source=row.source)


def load_live_events(session: Session) -> list[LiveEvent]:
    """Events still delivered to VENs."""
    return [_live(r) for r in session.scalars(select(db.Event).where(db.Event.closed.is_(False)))]


def load_live_overlapping(
    session: Session, market_context: str, priority: int, start: datetime, end: datetime | None
) -> list[LiveEvent]:
    """Live events of a program and priority whose window meets [start, end) (end None = open-ended),
    found through the indexed columns so only candidates are decoded."""
    query = select(db.Event).where(
        db.Event.closed.is_(False),
        db.Event.market_context == market_context,
        func.coalesce(db.Event.priority, 0) == priority,
        (db.Event.end_at.is_(None)) | (db.Event.end_at > start),
    )
    if end is not None:
        query = query.where(db.Event.dtstart < end)
    return [_live(r) for r in session.scalars(query)]


def load_events_by_id(session: Session, event_ids: Iterable[str]) -> list[tuple[LiveEvent, bool]]:
    """(event, closed) for the events among `event_ids` (one query)."""
    return [(_live(r), r.closed) for r in session.scalars(select(db.Event).where(db.Event.event_id.in_(list(event_ids))))]


def load_event(session: Session, event_id: str) -> tuple[LiveEvent, bool] | None:
    """(event, closed) by id."""
    row = session.get(db.Event, event_id)
    return (_live(row), row.closed) if row else None


def list_events(session: Session, limit: int = 100) -> list[tuple[LiveEvent, bool]]:
    """Newest events first, with their closed flag."""
    rows = session.scalars(select(db.Event).order_by(db.Event.created_at.desc()).limit(limit))
    return [(_live(r), r.closed) for r in rows]


def _apply(row: db.Event, event: m.Event) -> None:
    row.market_context = event.market_context
    row.modification_number = event.modification_number
    row.status = event.status
    row.priority = event.priority
    row.dtstart = event.dtstart
    row.end_at = event_end(event.dtstart, event.duration)
    row.body = event_to_json(event)


def insert_event(session: Session, event: m.Event, source: str, now: datetime) -> None:
    """Store a new event and its revision 0."""
    row = db.Event(event_id=event.event_id, source=source, created_at=now, modified_at=now, cancelled=False, closed=False)
    _apply(row, event)
    session.add(row)
    session.add(
        db.EventRevision(
            event_id=event.event_id,
            modification_number=event.modification_number,
            reason="created",
            snapshot=row.body,
            created_at=now,
        )
    )
    record_status(session, event.event_id, event.modification_number, event.status, now)
    note_change(session, "event", event.event_id, now)


def revise_event(session: Session, event: m.Event, now: datetime, *, cancelled: bool = False) -> None:
    """Store a new modification of an existing event, keeping the old one as a revision."""
    row = session.get(db.Event, event.event_id)
    if row is None:
        raise KeyError(event.event_id)
    if event.modification_number <= row.modification_number:
        raise ValueError(
            f"modification {event.modification_number} of {event.event_id} is not newer than {row.modification_number}"
        )
    _apply(row, event)
    row.cancelled = cancelled
    row.modified_at = now
    session.add(
        db.EventRevision(
            event_id=event.event_id,
            modification_number=event.modification_number,
            reason=event.modification_reason,
            snapshot=row.body,
            created_at=now,
        )
    )
    record_status(session, event.event_id, event.modification_number, event.status, now)
    note_change(session, "event", event.event_id, now)


def set_event_status(session: Session, event_id: str, modification_number: int, status: str, closed: bool, now: datetime) -> bool:
    """Record a status change (not a modification: the modificationNumber stays) made while looking at
    `modification_number`; False when there is nothing to change or the event moved on meanwhile.

    The row is locked first, so two processes that both believe they lead (a leader cut off from the
    database and its successor) cannot both write the transition: the second finds it done."""
    row = session.get(db.Event, event_id, with_for_update=True)
    if row is None or row.closed or row.modification_number != modification_number:
        return False
    if row.status == status and not closed:
        return False
    if row.status != status:
        record_status(session, event_id, modification_number, status, now)
    row.status = status
    row.closed = closed
    row.body = {**row.body, "status": status}
    note_change(session, "event", event_id, now)
    return True


def event_revisions(session: Session, event_id: str) -> list[tuple[int, str | None, datetime]]:
    """(modificationNumber, reason, time) of every revision of an event."""
    rows = session.scalars(
        select(db.EventRevision).where(db.EventRevision.event_id == event_id).order_by(db.EventRevision.modification_number)
    )
    return [(r.modification_number, r.reason, r.created_at) for r in rows]


def record_deliveries(session: Session, deliveries: Iterable[tuple[str, str, int, datetime]]) -> None:
    """Record (ven_id, event_id, modificationNumber, when) first deliveries in one executemany; repeats are ignored."""
    rows = [{"ven_id": v, "event_id": e, "modification_number": n, "first_delivered_at": at} for v, e, n, at in deliveries]
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    insert = {"postgresql": postgresql_insert, "sqlite": sqlite_insert}[dialect]
    session.execute(insert(db.EventDelivery).on_conflict_do_nothing(), rows)


#: ids per query when reading answers back (well under the databases' bound-parameter limits)
ANSWER_QUERY_CHUNK = 5000


def record_event_responses(session: Session, ven_id: str, responses: Iterable[m.EventResponse], now: datetime) -> None:
    """Store the eventResponses of an oadrCreatedEvent, and tell the other processes the VEN has answered
    (else a process that did not take the answer would distribute the event to it again at every poll)."""
    rows = [
        db.EventResponse(
            ven_id=ven_id,
            event_id=r.event_id,
            modification_number=r.modification_number,
            opt_type=r.opt_type,
            response_code=int(r.code),
            response_description=r.description,
            request_id=r.request_id,
            received_at=now,
        )
        for r in responses
    ]
    session.add_all(rows)
    session.flush()  # the rows' ids: the change names the answer itself, so a reader loads only what is new
    for row in rows:
        note_change(session, "ack", str(row.id), now)


def acknowledgements(session: Session) -> dict[tuple[str, str], int]:
    """(venID, eventID) → highest answered modificationNumber, for events still delivered."""
    live = select(db.Event.event_id).where(db.Event.closed.is_(False))
    rows = session.execute(
        select(db.EventResponse.ven_id, db.EventResponse.event_id, func.max(db.EventResponse.modification_number))
        .where(db.EventResponse.event_id.in_(live))
        .group_by(db.EventResponse.ven_id, db.EventResponse.event_id)
    )
    return {(v, e): n for v, e, n in rows}


def answers_by_id(session: Session, response_ids: Iterable[str]) -> list[tuple[str, str, int]]:
    """(venID, eventID, modificationNumber) of the stored eventResponses with these ids (the keys of "ack" changes)."""
    ids = sorted({int(i) for i in response_ids if i.isdigit()})
    found: list[tuple[str, str, int]] = []
    for start in range(0, len(ids), ANSWER_QUERY_CHUNK):
        chunk = ids[start : start + ANSWER_QUERY_CHUNK]
        query = select(db.EventResponse.ven_id, db.EventResponse.event_id, db.EventResponse.modification_number)
        found.extend((v, e, n) for v, e, n in session.execute(query.where(db.EventResponse.id.in_(chunk))))
    return found


def event_responses(session: Session, event_id: str) -> list[tuple[str, int, str, int, datetime]]:
    """(ven_id, modificationNumber, optType, code, received) for an event, oldest first."""
    rows = session.scalars(select(db.EventResponse).where(db.EventResponse.event_id == event_id).order_by(db.EventResponse.id))
    return [(r.ven_id, r.modification_number, r.opt_type, r.response_code, r.received_at) for r in rows]


def event_deliveries(session: Session, event_id: str) -> list[tuple[str, int, datetime]]:
    """(ven_id, modificationNumber, first delivered) for an event."""
    rows = session.scalars(select(db.EventDelivery).where(db.EventDelivery.event_id == event_id))
    return [(r.ven_id, r.modification_number, r.first_delivered_at) for r in rows]


# --- outbox ---------------------------------------------------------------------------------


def enqueue(session: Session, ven_id: str, kind: str, payload: dict, now: datetime) -> None:
    """Queue a VTN-initiated message for a VEN."""
    session.add(db.Outbox(ven_id=ven_id, kind=kind, payload=payload, created_at=now))
    note_change(session, "outbox", ven_id, now)


def pending_outbox(session: Session, ven_id: str | None = None, ven_ids: Iterable[str] | None = None) -> list[OutboxItem]:
    """Undelivered queued messages (of one VEN, of several, or all)."""
    query = select(db.Outbox).where(db.Outbox.delivered_at.is_(None))
    if ven_id is not None:
        query = query.where(db.Outbox.ven_id == ven_id)
    if ven_ids is not None:
        query = query.where(db.Outbox.ven_id.in_(list(ven_ids)))
    return [
        OutboxItem(id=r.id, ven_id=r.ven_id, kind=r.kind, payload=r.payload, created_at=r.created_at)
        for r in session.scalars(query.order_by(db.Outbox.id))
    ]


def claim_outbox(session: Session, item_id: int, now: datetime) -> bool:
    """Mark a queued message delivered; False when another process already did."""
    result = session.execute(
        update(db.Outbox).where(db.Outbox.id == item_id, db.Outbox.delivered_at.is_(None)).values(delivered_at=now)
    )
    return result.rowcount == 1


def drop_outbox(session: Session, ven_id: str, now: datetime) -> None:
    """Forget everything queued for a VEN (its registration was cancelled)."""
    session.execute(
        update(db.Outbox).where(db.Outbox.ven_id == ven_id, db.Outbox.delivered_at.is_(None)).values(delivered_at=now)
    )
    note_change(session, "outbox", ven_id, now)

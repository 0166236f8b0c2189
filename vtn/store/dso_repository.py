"""Store functions of the DSO (upstream) API: clients, signing key, OpenADR 3 programs and events,
operators' message ids. Plain functions over a Session, like `repository`."""

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from vtn.domain import ClientRecord
from vtn.store import dso_models as dso
from vtn.store import models as db
from vtn.store.repository import note_change


@dataclass(frozen=True)
class ProgramRow:
    """A program as the DSO API shows it."""

    program_id: str
    market_context: str
    body: dict[str, Any]
    client_id: str | None
    created_at: datetime
    modified_at: datetime


@dataclass(frozen=True)
class UpstreamEvent:
    """An event an upstream client created through the OpenADR 3 API."""

    event_id: str
    client_id: str
    program_id: str
    api_version: str
    body: dict[str, Any]
    created_at: datetime
    modified_at: datetime
    deleted: bool


# --- clients and signing key ------------------------------------------------------------------


def signing_key(session: Session, now: datetime) -> str:
    """The token signing key, created on first use (one per store, so every VTN process agrees)."""
    row = session.get(dso.DsoSigningKey, "default")
    if row is None:
        row = dso.DsoSigningKey(key_id="default", secret=secrets.token_urlsafe(48), created_at=now)
        session.add(row)
    return row.secret


def add_client(session: Session, client_id: str, secret_hash: str, scopes: frozenset[str], now: datetime) -> bool:
    """Store a new client; False when the id is taken."""
    if session.get(dso.DsoClient, client_id) is not None:
        return False
    session.add(dso.DsoClient(client_id=client_id, secret_hash=secret_hash, scopes=" ".join(sorted(scopes)), created_at=now))
    return True


def find_client(session: Session, client_id: str) -> ClientRecord | None:
    """A client by id."""
    row = session.get(dso.DsoClient, client_id)
    if row is None:
        return None
    return ClientRecord(row.client_id, row.secret_hash, frozenset(row.scopes.split()), row.disabled)


def list_clients(session: Session) -> list[tuple[str, str, bool, datetime]]:
    """(client_id, scopes, disabled, created) of every client."""
    rows = session.scalars(select(dso.DsoClient).order_by(dso.DsoClient.client_id))
    return [(r.client_id, r.scopes, r.disabled, r.created_at) for r in rows]


def disabled_clients(session: Session) -> frozenset[str]:
    """Ids of the disabled clients."""
    return frozenset(session.scalars(select(dso.DsoClient.client_id).where(dso.DsoClient.disabled.is_(True))))


def disable_client(session: Session, client_id: str) -> bool:
    """Refuse the client new tokens; False when unknown."""
    row = session.get(dso.DsoClient, client_id)
    if row is None:
        return False
    row.disabled = True
    return True


# --- programs ---------------------------------------------------------------------------------


def _program(row: dso.DsoProgram, market_context: str) -> ProgramRow:
    return ProgramRow(row.program_id, market_context, row.body, row.client_id, row.created_at, row.modified_at)


def sync_programs(session: Session, now: datetime) -> None:
    """Give every 2.0b program (configured or older) its OpenADR 3 view, named after its id."""
    known = set(session.scalars(select(dso.DsoProgram.program_id)))
    for program in session.scalars(select(db.Program)):
        if program.program_id not in known:
            body = {"programName": program.program_id, "programLongName": program.name}
            session.add(
                dso.DsoProgram(
                    program_id=program.program_id,
                    program_name=program.program_id,
                    body=body,
                    client_id=None,
                    created_at=now,
                    modified_at=now,
                )
            )


def list_programs(session: Session) -> list[ProgramRow]:
    """Every program, oldest first."""
    rows = session.execute(
        select(dso.DsoProgram, db.Program.market_context)
        .join(db.Program, db.Program.program_id == dso.DsoProgram.program_id)
        .order_by(dso.DsoProgram.created_at, dso.DsoProgram.program_id)
    )
    return [_program(p, mc) for p, mc in rows]


def load_program(session: Session, program_id: str) -> ProgramRow | None:
    """One program by id."""
    row = session.get(dso.DsoProgram, program_id)
    if row is None:
        return None
    program = session.get(db.Program, program_id)
    return _program(row, program.market_context if program else "")


def program_name_taken(session: Session, name: str, except_id: str | None = None) -> bool:
    """True when another program already has this programName (or market context)."""
    query = select(dso.DsoProgram.program_id).where(dso.DsoProgram.program_name == name)
    if except_id is not None:
        query = query.where(dso.DsoProgram.program_id != except_id)
    return session.scalar(query) is not None


def insert_program(
    session: Session, program_id: str, market_context: str, body: dict[str, Any], client_id: str, now: datetime
) -> ProgramRow:
    """Store a new program (2.0b row and OpenADR 3 view)."""
    name = body["programName"]
    session.add(db.Program(program_id=program_id, market_context=market_context, name=body.get("programLongName") or name))
    session.flush()
    row = dso.DsoProgram(
        program_id=program_id, program_name=name, body=body, client_id=client_id, created_at=now, modified_at=now
    )
    session.add(row)
    note_change(session, "program", program_id, now)
    return _program(row, market_context)


def update_program(session: Session, program_id: str, body: dict[str, Any], now: datetime) -> ProgramRow | None:
    """Replace a program's OpenADR 3 view (its id and market context stay)."""
    row = session.get(dso.DsoProgram, program_id)
    program = session.get(db.Program, program_id)
    if row is None or program is None:
        return None
    row.body, row.program_name, row.modified_at = body, body["programName"], now
    program.name = body.get("programLongName") or body["programName"]
    note_change(session, "program", program_id, now)
    return _program(row, program.market_context)


def program_has_events(session: Session, market_context: str) -> bool:
    """True when any event (of any source) belongs to the program."""
    return bool(session.scalar(select(func.count()).select_from(db.Event).where(db.Event.market_context == market_context)))


def delete_program(session: Session, program_id: str, now: datetime) -> None:
    """Remove a program without events."""
    row = session.get(dso.DsoProgram, program_id)
    if row is not None:
        session.delete(row)
    session.flush()
    program = session.get(db.Program, program_id)
    if program is not None:
        session.delete(program)
    note_change(session, "program", program_id, now)


# --- events -----------------------------------------------------------------------------------


def _upstream(row: dso.DsoEvent) -> UpstreamEvent:
    return UpstreamEvent(
        row.event_id, row.client_id, row.program_id, row.api_version, row.body, row.created_at, row.modified_at, row.deleted
    )


def insert_upstream_event(
    session: Session, event_id: str, client_id: str, program_id: str, version: str, body: dict[str, Any], now: datetime
) -> UpstreamEvent:
    """Record the OpenADR 3 form of an event just created."""
    session.flush()  # the 2.0b event row first (foreign key)
    row = dso.DsoEvent(
        event_id=event_id,
        client_id=client_id,
        program_id=program_id,
        api_version=version,
        body=body,
        created_at=now,
        modified_at=now,
        deleted=False,
    )
    session.add(row)
    return _upstream(row)


def load_upstream_event(session: Session, event_id: str) -> UpstreamEvent | None:
    """An upstream event by id (deleted ones included)."""
    row = session.get(dso.DsoEvent, event_id)
    return _upstream(row) if row else None


def list_upstream_events(session: Session, client_id: str, program_id: str | None = None) -> list[UpstreamEvent]:
    """A client's events that are not deleted, oldest first."""
    query = select(dso.DsoEvent).where(dso.DsoEvent.client_id == client_id, dso.DsoEvent.deleted.is_(False))
    if program_id is not None:
        query = query.where(dso.DsoEvent.program_id == program_id)
    return [_upstream(r) for r in session.scalars(query.order_by(dso.DsoEvent.created_at, dso.DsoEvent.event_id))]


def update_upstream_event(session: Session, event_id: str, body: dict[str, Any], now: datetime, deleted: bool = False) -> None:
    """Replace an upstream event's body (or mark it deleted)."""
    row = session.get(dso.DsoEvent, event_id)
    if row is None:
        raise KeyError(event_id)
    row.body, row.modified_at, row.deleted = body, now, deleted


# --- subscriptions ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SubscriptionRow:
    """A client's subscription as stored."""

    subscription_id: str
    client_id: str
    api_version: str
    body: dict[str, Any]
    created_at: datetime
    modified_at: datetime


def _subscription(row: dso.DsoSubscription) -> SubscriptionRow:
    return SubscriptionRow(row.subscription_id, row.client_id, row.api_version, row.body, row.created_at, row.modified_at)


def insert_subscription(
    session: Session, subscription_id: str, client_id: str, version: str, body: dict[str, Any], now: datetime
) -> SubscriptionRow:
    """Store a new subscription (`version`: the API version its notifications use)."""
    row = dso.DsoSubscription(
        subscription_id=subscription_id, client_id=client_id, api_version=version, body=body, created_at=now, modified_at=now
    )
    session.add(row)
    return _subscription(row)


def list_subscriptions(session: Session, client_id: str) -> list[SubscriptionRow]:
    """A client's subscriptions, oldest first."""
    query = select(dso.DsoSubscription).where(dso.DsoSubscription.client_id == client_id)
    return [_subscription(r) for r in session.scalars(query.order_by(dso.DsoSubscription.created_at))]


def load_subscription(session: Session, subscription_id: str) -> SubscriptionRow | None:
    """One subscription by id."""
    row = session.get(dso.DsoSubscription, subscription_id)
    return _subscription(row) if row else None


def update_subscription(session: Session, subscription_id: str, body: dict[str, Any], now: datetime) -> SubscriptionRow | None:
    """Replace a subscription's body."""
    row = session.get(dso.DsoSubscription, subscription_id)
    if row is None:
        return None
    row.body, row.modified_at = body, now
    return _subscription(row)


def delete_subscription(session: Session, subscription_id: str) -> None:
    """Remove a subscription."""
    row = session.get(dso.DsoSubscription, subscription_id)
    if row is not None:
        session.delete(row)


# --- operators' messages ------------------------------------------------------------------------


def find_message(session: Session, kind: str, message_id: str) -> tuple[str, list[str]] | None:
    """(client, event ids) of a message already handled, else None."""
    row = session.get(dso.DsoMessage, (kind, message_id))
    return (row.client_id, list(row.event_ids)) if row else None


def record_message(session: Session, kind: str, message_id: str, client_id: str, event_ids: list[str], now: datetime) -> None:
    """Remember a handled message and the events it became."""
    session.add(dso.DsoMessage(kind=kind, message_id=message_id, client_id=client_id, event_ids=event_ids, received_at=now))


# --- VENs (read) --------------------------------------------------------------------------------


@dataclass(frozen=True)
class VenView:
    """A VEN as the OpenADR 3 API shows it: name, groups, resources, and when it was first and last changed."""

    ven_id: str
    ven_name: str
    groups: tuple[str, ...]
    resources: tuple[str, ...]
    created_at: datetime
    modified_at: datetime


def ven_views(session: Session) -> list[VenView]:
    """Every VEN the VTN knows, with its groups and resources (by its oadrVenName)."""
    groups: dict[str, list[str]] = {}
    for row in session.scalars(select(db.GroupMember).order_by(db.GroupMember.group_id)):
        groups.setdefault(row.ven_name, []).append(row.group_id)
    resources: dict[str, list[str]] = {}
    for row in session.scalars(select(db.Resource).order_by(db.Resource.resource_id)):
        resources.setdefault(row.ven_name, []).append(row.resource_id)
    views = []
    for ven in session.scalars(select(db.Ven).order_by(db.Ven.ven_id)):
        name = ven.ven_name or ven.ven_id
        views.append(
            VenView(
                ven.ven_id,
                name,
                tuple(groups.get(name, ())),
                tuple(resources.get(name, ())),
                ven.registered_at or ven.updated_at,
                ven.updated_at,
            )
        )
    return views

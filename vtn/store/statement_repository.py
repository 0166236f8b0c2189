"""Settlement statements in the store: written once, read back, never updated; the events a scope covers."""

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from vtn.store import models as db
from vtn.store.aggregator_models import AggregatorRequest
from vtn.store.curtailment_models import SettlementStatement


def save_statement(session: Session, **fields: Any) -> SettlementStatement:
    """Write an issued statement (a new row: statements are never updated); `fields` are its columns."""
    row = SettlementStatement(**fields)
    session.add(row)
    return row


def find_statement(session: Session, statement_id: str) -> SettlementStatement | None:
    """One statement."""
    return session.get(SettlementStatement, statement_id)


def latest_for_scope(session: Session, kind: str, key: str, start: datetime, end: datetime) -> SettlementStatement | None:
    """The newest statement over exactly this scope and period."""
    query = (
        select(SettlementStatement)
        .where(SettlementStatement.scope_kind == kind, SettlementStatement.scope_key == key)
        .where(SettlementStatement.period_start == start, SettlementStatement.period_end == end)
        .order_by(SettlementStatement.issued_at.desc())
        .limit(1)
    )
    return session.scalars(query).first()


def list_statements(session: Session, limit: int = 200) -> list[SettlementStatement]:
    """The newest statements first."""
    return list(session.scalars(select(SettlementStatement).order_by(SettlementStatement.issued_at.desc()).limit(limit)))


def events_of_program(session: Session, market_context: str, start: datetime, end: datetime) -> list[str]:
    """The program's events (not cancelled) that started in [start, end), oldest first."""
    query = (
        select(db.Event.event_id)
        .where(db.Event.market_context == market_context, db.Event.cancelled.is_(False))
        .where(db.Event.dtstart >= start, db.Event.dtstart < end)
        .order_by(db.Event.dtstart)
    )
    return list(session.scalars(query))


def events_of_ven(session: Session, ven_id: str, start: datetime, end: datetime) -> list[str]:
    """The events delivered to the VEN (not cancelled) that started in [start, end), oldest first."""
    query = (
        select(db.Event.event_id)
        .join(db.EventDelivery, db.EventDelivery.event_id == db.Event.event_id)
        .where(db.EventDelivery.ven_id == ven_id, db.Event.cancelled.is_(False))
        .where(db.Event.dtstart >= start, db.Event.dtstart < end)
        .order_by(db.Event.dtstart)
        .distinct()
    )
    return list(session.scalars(query))


def events_of_aggregator(session: Session, client_id: str, start: datetime, end: datetime) -> list[tuple[str, str]]:
    """(event id, venID) of every site event the aggregator's orders and series placed, created in [start, end)."""
    rows = session.scalars(
        select(AggregatorRequest)
        .where(AggregatorRequest.client_id == client_id)
        .where(AggregatorRequest.created_at >= start, AggregatorRequest.created_at < end)
        .order_by(AggregatorRequest.created_at)
    )
    found: list[tuple[str, str]] = []
    for row in rows:
        placements: list[dict[str, Any]] = row.placements or []
        found += [(p["event_id"], p["ven_id"]) for p in placements if p.get("event_id") and p.get("ven_id")]
    return found

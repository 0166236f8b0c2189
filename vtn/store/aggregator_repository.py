"""Store functions of the aggregator API: its requests (orders, series) and what the VENs answered
to their events. Plain functions over a Session, like `repository`."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mapping.flexready.acks import Response
from mapping.flexready.scope import Scope
from mapping.oadr.model import OptType
from mapping.oadr.timefmt import parse_datetime
from vtn.store import models as db
from vtn.store.aggregator_models import AggregatorRequest, AggregatorSubscription


@dataclass(frozen=True)
class StoredRequest:
    """An order or series as stored."""

    client_id: str
    kind: str
    request_id: str
    body: dict[str, Any]
    placements: tuple[dict[str, Any], ...]
    cancelled: bool
    created_at: datetime
    modified_at: datetime
    #: what its webhooks were last told (None: nothing yet)
    notified: dict[str, Any] | None = None


@dataclass(frozen=True)
class Subscription:
    """A client's webhook subscription."""

    subscription_id: str
    client_id: str
    callback_url: str
    events: tuple[str, ...]
    secret: str
    created_at: datetime


def _stored(row: AggregatorRequest) -> StoredRequest:
    return StoredRequest(
        row.client_id,
        row.kind,
        row.request_id,
        dict(row.body),
        tuple(dict(p) for p in row.placements),
        row.cancelled,
        row.created_at,
        row.modified_at,
        dict(row.notified) if row.notified is not None else None,
    )


def find_request(session: Session, client_id: str, kind: str, request_id: str) -> StoredRequest | None:
    """One aggregator's order or series by its id (another aggregator's is never found)."""
    row = session.get(AggregatorRequest, (client_id, kind, request_id))
    return _stored(row) if row else None


def list_requests(session: Session, client_id: str, kind: str, limit: int = 100, skip: int = 0) -> list[StoredRequest]:
    """One aggregator's orders or series, newest first."""
    query = (
        select(AggregatorRequest)
        .where(AggregatorRequest.client_id == client_id, AggregatorRequest.kind == kind)
        .order_by(AggregatorRequest.created_at.desc(), AggregatorRequest.request_id)
        .offset(skip)
        .limit(limit)
    )
    return [_stored(r) for r in session.scalars(query)]


def insert_request(
    session: Session,
    client_id: str,
    kind: str,
    request_id: str,
    body: dict[str, Any],
    placements: list[dict[str, Any]],
    now: datetime,
) -> StoredRequest:
    """Insert a new order or series (an IntegrityError when another transaction took the id meanwhile)."""
    row = AggregatorRequest(
        client_id=client_id,
        kind=kind,
        request_id=request_id,
        body=body,
        placements=placements,
        cancelled=False,
        created_at=now,
        modified_at=now,
    )
    session.add(row)
    session.flush()
    return _stored(row)


def update_request(
    session: Session, client_id: str, kind: str, request_id: str, body: dict[str, Any], now: datetime, cancelled: bool = False
) -> StoredRequest:
    """Replace a stored order's body (a modification) or mark it cancelled."""
    row = session.get(AggregatorRequest, (client_id, kind, request_id))
    if row is None:
        raise KeyError(request_id)
    row.body, row.cancelled, row.modified_at = body, cancelled, now
    session.flush()
    return _stored(row)


def registered_sites(session: Session, scope: Scope, names: list[str], now: datetime) -> set[str]:
    """The names among `names` that the client holds at `now` and whose VEN holds a registration (one query)."""
    held = [name for name in names if name in scope.sites_at(now)]
    query = select(db.Ven.ven_name).where(db.Ven.ven_name.in_(held), db.Ven.registration_id.is_not(None))
    return {name for name in session.scalars(query) if name is not None}


def responses(session: Session, event_id: str, ven_id: str) -> list[Response]:
    """A VEN's eventResponses to one event, oldest first."""
    rows = session.scalars(
        select(db.EventResponse)
        .where(db.EventResponse.event_id == event_id, db.EventResponse.ven_id == ven_id)
        .order_by(db.EventResponse.id)
    )
    return [Response(r.modification_number, r.opt_type, r.response_code, r.response_description) for r in rows]


def opted_out(session: Session, event_id: str, ven_id: str) -> str | None:
    """The reason of a VEN's standing optOut of one event (oadrCreateOpt), else None."""
    row = session.scalar(
        select(db.Opt)
        .where(db.Opt.event_id == event_id, db.Opt.ven_id == ven_id, db.Opt.cancelled_at.is_(None))
        .order_by(db.Opt.received_at.desc())
        .limit(1)
    )
    return row.opt_reason if row is not None and row.opt_type == OptType.OPT_OUT else None


def requests_on(session: Session, client_id: str, site: str, kind: str | None = None) -> list[StoredRequest]:
    """A client's live (not cancelled) orders and series with a placement on `site`, oldest first."""
    query = select(AggregatorRequest).where(AggregatorRequest.client_id == client_id, AggregatorRequest.cancelled.is_(False))
    if kind is not None:
        query = query.where(AggregatorRequest.kind == kind)
    rows = session.scalars(query.order_by(AggregatorRequest.created_at, AggregatorRequest.request_id))
    # placements are JSON: filtered here, not in SQL (a client has few live requests on one site)
    return [s for s in map(_stored, rows) if any(p.get("site") == site for p in s.placements)]


def _subscription(row: AggregatorSubscription) -> Subscription:
    return Subscription(row.subscription_id, row.client_id, row.callback_url, tuple(row.events), row.secret, row.created_at)


def add_subscription(
    session: Session, client_id: str, subscription_id: str, callback_url: str, events: tuple[str, ...], secret: str, now: datetime
) -> Subscription:
    """Store a new webhook subscription."""
    row = AggregatorSubscription(
        subscription_id=subscription_id,
        client_id=client_id,
        callback_url=callback_url,
        events=list(events),
        secret=secret,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return _subscription(row)


def subscriptions(session: Session, client_id: str | None = None) -> list[Subscription]:
    """One client's subscriptions (None: every client's), oldest first."""
    query = select(AggregatorSubscription).order_by(AggregatorSubscription.created_at, AggregatorSubscription.subscription_id)
    if client_id is not None:
        query = query.where(AggregatorSubscription.client_id == client_id)
    return [_subscription(r) for r in session.scalars(query)]


def find_subscription(session: Session, client_id: str, subscription_id: str) -> Subscription | None:
    """One of a client's subscriptions (another client's is never found)."""
    row = session.get(AggregatorSubscription, subscription_id)
    return _subscription(row) if row is not None and row.client_id == client_id else None


def delete_subscription(session: Session, client_id: str, subscription_id: str) -> bool:
    """Delete one of a client's subscriptions; False when it has none by that id."""
    row = session.get(AggregatorSubscription, subscription_id)
    if row is None or row.client_id != client_id:
        return False
    session.delete(row)
    return True


def unsettled_orders(session: Session, client_ids: list[str], limit: int = 500) -> list[StoredRequest]:
    """The clients' orders that may still change, oldest first, locked until the transaction ends (on
    PostgreSQL another VTN process's notifier waits, then sees them as this one left them)."""
    query = (
        select(AggregatorRequest)
        .where(
            AggregatorRequest.client_id.in_(client_ids),
            AggregatorRequest.kind == "order",
            AggregatorRequest.settled.is_(False),
        )
        .order_by(AggregatorRequest.created_at, AggregatorRequest.request_id)
        .limit(limit)
        .with_for_update()
    )
    return [_stored(r) for r in session.scalars(query)]


def save_notified(session: Session, client_id: str, request_id: str, notified: dict[str, Any], settled: bool) -> None:
    """Record what an order's webhooks were told, and whether it can change no more."""
    row = session.get(AggregatorRequest, (client_id, "order", request_id))
    if row is not None:
        row.notified, row.settled = notified, settled
        session.flush()


def unavailable_windows(session: Session, ven_id: str, market_context: str) -> list[tuple[datetime, datetime | None, str]]:
    """A VEN's standing availability optOuts (oadrCreateOpt without an event, for this program or all):
    (start, end or None: open-ended, reason) of each window."""
    rows = session.scalars(
        select(db.Opt).where(
            db.Opt.ven_id == ven_id,
            db.Opt.event_id.is_(None),
            db.Opt.cancelled_at.is_(None),
            db.Opt.opt_type == OptType.OPT_OUT,
        )
    )
    found = []
    for row in rows:
        if row.market_context not in (None, "", market_context):
            continue
        for a, b in row.windows:
            found.append((parse_datetime(a), parse_datetime(b) if b else None, row.opt_reason))
    return found

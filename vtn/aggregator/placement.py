"""Orders and series into the store, in one transaction each: one event per site (through
`vtn.admin.events`, source `aggregator:<client>`), refused sites recorded with the reason.

The same id with the same body is answered with what was stored (idempotent); the same id with
another body is a conflict naming the id field.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from mapping.flexready.plans import SitePlan
from mapping.flexready.scope import Scope
from mapping.oadr import model as m
from vtn.admin import events as event_admin
from vtn.aggregator.ending import end_requests_on
from vtn.dso.openadr3.common import Conflict, NotFound
from vtn.store import Tx
from vtn.store import aggregator_repository as agg_repo
from vtn.store import portfolio_repository as portfolio_repo
from vtn.store import repository as repo
from vtn.store.aggregator_repository import StoredRequest

NOT_REGISTERED = "the site's VEN has not registered with the VTN"
ID_FIELD = {"order": "client_order_id", "series": "series_id"}


@dataclass(frozen=True)
class Outcome:
    """What a store call did: the request as stored, whether it was a repeat, and the events changed."""

    request: StoredRequest
    duplicate: bool
    changed: tuple[m.Event, ...] = ()


def source_of(client_id: str) -> str:
    """The event source recorded for an aggregator's events (a market source: `vtn.admin.events.ranked`)."""
    return f"{event_admin.MARKET_SOURCE}{client_id}"


def _draft(plan: SitePlan, ven_id: str, market_context: str, now: datetime, near_window: timedelta) -> m.Event:
    return event_admin.draft_uniform_event(
        plan.signal_name,
        plan.signal_type,
        list(plan.values),
        plan.step,
        plan.unit,
        market_context=market_context,
        dtstart=plan.start,
        now=now,
        near_window=near_window,
        target=m.Target(ven_ids=(ven_id,)),
        priority=plan.priority,
        vtn_comment=plan.comment,
    )


def _check_scope(session: Tx, scope: Scope, plans: tuple[SitePlan, ...]) -> None:
    """Within the transaction, the client still holds every site over its window (a switch may have
    been committed since the request was checked): otherwise the site is unknown to it (404)."""
    fresh = portfolio_repo.scope(session, scope.client_id)
    for plan in plans:
        if not fresh.covers(plan.site, plan.start, plan.end):
            raise NotFound(f"site: {plan.site!r} is not a site of this portfolio (GET /flexready/v1/sites lists them)")


def _replace_older_series(
    session: Tx, client_id: str, request_id: str, item: object, plan: SitePlan, now: datetime, near_window: timedelta
) -> list[m.Event]:
    """A newer series replaces the client's older ones for the same site and item over its window: their
    remaining intervals end where the newer one begins (those starting inside its window are cancelled)."""

    def older(request: StoredRequest) -> bool:
        return request.kind == "series" and request.request_id != request_id and request.body.get("item") == item

    reason = f"replaced by series {request_id}"
    return end_requests_on(
        session, client_id, plan.site, plan.start, now, near_window, reason, source_of(client_id), which=older, before=plan.end
    )


def submit(
    session: Tx,
    scope: Scope,
    kind: str,
    request_id: str,
    body: dict[str, Any],
    plans: tuple[SitePlan, ...],
    market_context: str,
    now: datetime,
    near_window: timedelta,
) -> Outcome:
    """Store a new order or series and its events; a repeat of a stored one changes nothing. A new series
    ends the client's older series of the same item on its sites over its window (`_replace_older_series`)."""
    client_id = scope.client_id
    stored = agg_repo.find_request(session, client_id, kind, request_id)
    if stored is not None:
        if stored.body != body:
            raise Conflict(f"{ID_FIELD[kind]}: {request_id!r} was already used for another {kind}")
        return Outcome(stored, duplicate=True)
    _check_scope(session, scope, plans)
    placements: list[dict[str, Any]] = []
    changed: list[m.Event] = []
    for plan in plans:
        if kind == "series":
            changed += _replace_older_series(session, client_id, request_id, body.get("item"), plan, now, near_window)
        ven = repo.find_ven_by_name(session, plan.site)
        placement: dict[str, Any] = {"site": plan.site, "ven_id": None, "event_id": None, "refused": None}
        if ven is None or not ven.registered:
            placements.append({**placement, "refused": NOT_REGISTERED})
            continue
        placement["ven_id"] = ven.ven_id
        try:
            draft = _draft(plan, ven.ven_id, market_context, now, near_window)
            event = event_admin.create_event(session, draft, source_of(client_id), now)  # in the market band
        except event_admin.EventRefused as exc:
            placements.append({**placement, "refused": str(exc)})
            continue
        placements.append({**placement, "event_id": event.event_id})
        changed.append(event)
    stored = agg_repo.insert_request(session, client_id, kind, request_id, body, placements, now)
    return Outcome(stored, duplicate=False, changed=tuple(changed))


def _owned(session: Tx, client_id: str, kind: str, request_id: str) -> StoredRequest:
    stored = agg_repo.find_request(session, client_id, kind, request_id)
    if stored is None:
        raise NotFound(f"{ID_FIELD[kind]}: no {kind} {request_id!r} of this aggregator")
    return stored


def modify(
    session: Tx,
    scope: Scope,
    request_id: str,
    body: dict[str, Any],
    plans: tuple[SitePlan, ...],
    now: datetime,
    near_window: timedelta,
) -> Outcome:
    """Change an order's window, direction, mode or power; its sites stay (cancel and resend to change them)."""
    client_id = scope.client_id
    stored = _owned(session, client_id, "order", request_id)
    if stored.body == body:
        return Outcome(stored, duplicate=True)
    if stored.cancelled:
        raise Conflict(f"client_order_id: order {request_id!r} is cancelled")
    _check_scope(session, scope, plans)
    placed = {p["site"] for p in stored.placements}
    # a group site that offered nothing got no event when the order was placed: a zero share for it now is
    # no change of sites (shares follow the offers, `vtn.aggregator.handlers._within_offer`)
    by_site = {p.site: p for p in plans if p.site in placed or any(v != 0 for v in p.values)}
    if set(by_site) != placed:
        raise Conflict("site: an order's sites cannot change; cancel it and send a new order")
    changed = []
    for placement in stored.placements:
        if placement["event_id"] is None:
            continue
        plan = by_site[placement["site"]]
        signal = event_admin.uniform_signal(plan.signal_name, plan.signal_type, list(plan.values), plan.step, plan.unit)
        try:
            event = event_admin.modify_event(
                session,
                placement["event_id"],
                now,
                near_window,
                f"aggregator order {request_id} modified",
                actor=source_of(client_id),
                dtstart=plan.start.replace(microsecond=0),
                signals=(signal,),
                vtn_comment=plan.comment,
            )
        except event_admin.EventRefused as exc:
            raise Conflict(f"client_order_id: {exc}") from exc
        changed.append(event)
    saved = agg_repo.update_request(session, client_id, "order", request_id, body, now)
    return Outcome(saved, duplicate=False, changed=tuple(changed))


def cancel(session: Tx, client_id: str, kind: str, request_id: str, now: datetime) -> Outcome:
    """Cancel every event of an order or series (cancelling twice is answered as done)."""
    stored = _owned(session, client_id, kind, request_id)
    if stored.cancelled:
        return Outcome(stored, duplicate=True)
    changed = []
    for placement in stored.placements:
        found = repo.load_event(session, placement["event_id"]) if placement["event_id"] else None
        if found is None or found[0].cancelled:  # never placed, or already cancelled (e.g. by an operator)
            continue
        try:
            reason = f"aggregator {kind} {request_id} cancelled"
            changed.append(event_admin.cancel_event(session, placement["event_id"], now, reason, actor=source_of(client_id)))
        except event_admin.EventRefused as exc:
            raise Conflict(f"{ID_FIELD[kind]}: {exc}") from exc
    saved = agg_repo.update_request(session, client_id, kind, request_id, stored.body, now, cancelled=True)
    return Outcome(saved, duplicate=False, changed=tuple(changed))

"""Ending a client's events on a site at an instant, inside the caller's store transaction: an event
that has not begun by then is cancelled, one that runs across it is modified to stop there, one
already over is left alone. A portfolio switch ends the old owner's orders and series this way;
a newer series ends the older one's remaining intervals this way."""

from collections.abc import Callable
from datetime import datetime, timedelta

from mapping.flexready.ending import cut_signals, ends_after
from mapping.oadr import model as m
from vtn.admin import events as event_admin
from vtn.store import Tx
from vtn.store import aggregator_repository as agg_repo
from vtn.store import repository as repo
from vtn.store.aggregator_repository import StoredRequest


def end_event(
    session: Tx,
    event_id: str,
    at: datetime,
    now: datetime,
    near_window: timedelta,
    reason: str,
    actor: str,
    before: datetime | None = None,
) -> m.Event | None:
    """End one event at `at` (see the module); the revised event, or None when nothing changed (also when it
    starts at or after `before`)."""
    found = repo.load_event(session, event_id)
    if found is None or found[1] or found[0].cancelled or not ends_after(found[0].event, at):
        return None
    if before is not None and found[0].event.dtstart >= before:
        return None
    signals = cut_signals(found[0].event, at)
    if signals is None:
        return event_admin.cancel_event(session, event_id, now, reason, actor=actor)
    return event_admin.modify_event(session, event_id, now, near_window, reason, actor=actor, signals=signals)


def end_requests_on(
    session: Tx,
    client_id: str,
    site: str,
    at: datetime,
    now: datetime,
    near_window: timedelta,
    reason: str,
    actor: str,
    which: Callable[[StoredRequest], bool] = lambda _request: True,
    before: datetime | None = None,
) -> list[m.Event]:
    """End at `at` the events on `site` of the client's live requests that `which` selects (only those
    starting before `before`, when given: a later one is not in the way)."""
    changed = []
    for request in agg_repo.requests_on(session, client_id, site):
        if not which(request):
            continue
        for placement in request.placements:
            if placement.get("site") == site and placement.get("event_id"):
                event = end_event(session, placement["event_id"], at, now, near_window, reason, actor, before)
                if event is not None:
                    changed.append(event)
    return changed

"""Store transactions behind the OpenADR 3 events API: the 2.0b event (through `vtn.admin.events`, the one
place that changes events) and its OpenADR 3 form change together."""

from datetime import datetime, timedelta
from typing import Any

from mapping.oadr import model as m
from vtn.admin import events as event_admin
from vtn.store import Tx
from vtn.store import dso_repository as dso_repo
from vtn.store import repository as repo
from vtn.store.dso_repository import UpstreamEvent

REASON_UPDATED = "updated through the OpenADR 3 API"
REASON_DELETED = "deleted through the OpenADR 3 API"


def source_of(client_id: str) -> str:
    """The event source recorded for an upstream client (a grid source: `vtn.admin.events.ranked`)."""
    return f"{event_admin.GRID_SOURCE}{client_id}"


def create(
    session: Tx, event: m.Event, client_id: str, program_id: str, version: str, body: dict[str, Any], now: datetime
) -> tuple[UpstreamEvent, m.Event]:
    """Store a new 2.0b event and its OpenADR 3 form (EventRefused on an id clash or an overlapping event);
    the OpenADR 3 form and the 2.0b event as stored (its priority in the grid band)."""
    stored = event_admin.create_event(session, event, source_of(client_id), now)
    return dso_repo.insert_upstream_event(session, event.event_id, client_id, program_id, version, body, now), stored


def update(
    session: Tx,
    event_id: str,
    body: dict[str, Any],
    now: datetime,
    near_window: timedelta,
    client_id: str,
    **changes: object,
) -> m.Event:
    """A new 2.0b modification and the new OpenADR 3 form (EventRefused once the event is over)."""
    revised = event_admin.modify_event(session, event_id, now, near_window, REASON_UPDATED, actor=source_of(client_id), **changes)
    dso_repo.update_upstream_event(session, event_id, body, now)
    return revised


def delete(session: Tx, event_id: str, now: datetime, client_id: str) -> m.Event | None:
    """Cancel the 2.0b event while it is still open, and mark the OpenADR 3 form deleted.

    Returns the cancelled modification, or None when the event had already completed or been cancelled.
    """
    found = repo.load_event(session, event_id)
    cancelled = None
    if found is not None and not found[1] and not found[0].cancelled:
        cancelled = event_admin.cancel_event(session, event_id, now, REASON_DELETED, actor=source_of(client_id))
    current = dso_repo.load_upstream_event(session, event_id)
    if current is not None:
        dso_repo.update_upstream_event(session, event_id, current.body, now, deleted=True)
    return cancelled

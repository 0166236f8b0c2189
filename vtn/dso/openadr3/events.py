"""/events: OpenADR 3 events in, 2.0b events (create, modification, cancellation) out.

Each client sees and changes only the events it created (another client's event answers 404).
PUT replaces the whole event (what the body leaves out is gone; id, createdDateTime,
modificationDateTime and objectType are ignored); the programID cannot change.
"""

from datetime import datetime, timedelta
from typing import Any

from aiohttp import web

from mapping.oadr import model as m
from mapping.oadr.lifecycle import event_end
from mapping.openadr3 import events as tr
from mapping.openadr3.wire import object_id
from mapping.refusal import Refused
from vtn.admin import events as event_admin
from vtn.auth.tokens import Grant
from vtn.domain import LiveEvent
from vtn.dso.openadr3 import event_ops
from vtn.dso.openadr3.common import Api, NotFound, json_body, ok, page, path_id
from vtn.dso.openadr3.directory import directory
from vtn.dso.openadr3.filters import filter_by_targets
from vtn.dso.openadr3.programs import program_view
from vtn.store import dso_repository as dso_repo
from vtn.store.dso_repository import UpstreamEvent


def _publish(api: Api, event: m.Event, client_id: str, cancelled: bool = False) -> None:
    # written with this process's origin, so the change feed skips it here: apply it to the cache now
    live = LiveEvent(event=event, cancelled=cancelled, source=event_ops.source_of(client_id))
    api.ctx.live.put_event(live)
    api.lifecycle.schedule(live)


def _notify(
    api: Api, grant: Grant, operation: str, clean: dict[str, Any], event_id: str, created: datetime, now: datetime
) -> None:
    def render(version: str) -> dict[str, Any]:
        return tr.render_event(clean, event_id, created, now, version)

    api.notifier.notify(grant.client_id, "EVENT", operation, clean["programID"], render, event_id)


def _render(api: Api, row: UpstreamEvent) -> dict[str, Any]:
    return tr.render_event(row.body, row.event_id, row.created_at, row.modified_at, api.version)


async def _owned(api: Api, request: web.Request, grant: Grant) -> UpstreamEvent:
    event_id = path_id(request, "eventID")
    row = await api.ctx.store.call(dso_repo.load_upstream_event, event_id)
    if row is None or row.deleted or row.client_id != grant.client_id:
        raise NotFound(f"eventID: no event {event_id}")
    return row


async def _draft(api: Api, clean: dict[str, Any], event_id: str | None = None) -> m.Event:
    """The 2.0b event a cleaned 3.x event becomes (modification 0; an update takes its fields)."""
    program = await api.ctx.store.call(dso_repo.load_program, clean["programID"])
    if program is None:
        raise Refused("programID", f"no program {clean['programID']}")
    draft = tr.to_draft(clean, api.version, program_view(api, program), directory(api.ctx.live))
    now = api.ctx.now()
    try:
        event = event_admin.draft_event(
            market_context=draft.market_context,
            dtstart=draft.dtstart,
            signals=draft.signals,
            now=now,
            near_window=api.ctx.config.near_window,
            target=draft.target,
            event_id=event_id,
            priority=draft.priority,
            vtn_comment=draft.vtn_comment,
            start_after=draft.start_after,
        )
    except event_admin.EventRefused as exc:
        raise Refused("intervals", str(exc)) from exc
    return event


async def create_event(api: Api, request: web.Request, grant: Grant) -> web.Response:
    """POST /events → 201 with the event; the 2.0b event goes out at each targeted VEN's next poll."""
    clean = tr.clean_event(await json_body(request), api.version)
    event = await _draft(api, clean)
    now = api.ctx.now()
    row, stored = await api.ctx.store.call(event_ops.create, event, grant.client_id, clean["programID"], api.version, clean, now)
    _publish(api, stored, grant.client_id)
    _notify(api, grant, "CREATE", clean, row.event_id, row.created_at, now)
    return ok(_render(api, row), status=201)


async def read_event(api: Api, request: web.Request, grant: Grant) -> web.Response:
    """GET /events/{eventID}."""
    return ok(_render(api, await _owned(api, request, grant)))


async def update_event(api: Api, request: web.Request, grant: Grant) -> web.Response:
    """PUT /events/{eventID}: replaces the event; a new 2.0b modification."""
    current = await _owned(api, request, grant)
    clean = tr.clean_event(await json_body(request), api.version, current.body)
    if clean["programID"] != current.program_id:
        raise Refused("programID", f"an event cannot move to another program (it belongs to {current.program_id})")
    event = await _draft(api, clean, current.event_id)
    now = api.ctx.now()
    revised = await api.ctx.store.call(
        event_ops.update,
        current.event_id,
        clean,
        now,
        api.ctx.config.near_window,
        grant.client_id,
        market_context=event.market_context,
        dtstart=event.dtstart,
        signals=event.signals,
        target=event.target,
        priority=event.priority,
        vtn_comment=event.vtn_comment,
        start_after=event.start_after,
    )
    _publish(api, revised, grant.client_id)
    _notify(api, grant, "UPDATE", clean, current.event_id, current.created_at, now)
    return ok(tr.render_event(clean, current.event_id, current.created_at, now, api.version))


async def delete_event(api: Api, request: web.Request, grant: Grant) -> web.Response:
    """DELETE /events/{eventID}: cancels the 2.0b event and answers with the deleted event."""
    current = await _owned(api, request, grant)
    now = api.ctx.now()
    cancelled = await api.ctx.store.call(event_ops.delete, current.event_id, now, grant.client_id)
    if cancelled is not None:
        _publish(api, cancelled, grant.client_id, cancelled=True)
    _notify(api, grant, "DELETE", current.body, current.event_id, current.created_at, now)
    return ok(tr.render_event(current.body, current.event_id, current.created_at, now, api.version))


def _active(row: UpstreamEvent, now: datetime) -> bool:
    start, durations = tr.timeline(row.body)
    end = event_end(start, sum(durations, timedelta()))
    return end is None or end > now


async def search_events(api: Api, request: web.Request, grant: Grant) -> web.Response:
    """GET /events: the client's events, filtered by programID, targets and (3.1) active; skip/limit."""
    skip, limit = page(request)
    program_id = object_id(request.query.get("programID"), "programID", required=False)
    rows = await api.ctx.store.call(dso_repo.list_upstream_events, grant.client_id, program_id)
    rows = filter_by_targets(request, api.version, rows)
    active = request.query.get("active")
    if active is not None:
        if active not in ("true", "false"):
            raise Refused("active", "expected true or false")
        now = api.ctx.now()
        rows = [r for r in rows if active == "false" or _active(r, now)]
    return ok([_render(api, r) for r in rows[skip : skip + limit]])

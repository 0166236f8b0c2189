"""POST /dso/signals/<kind>: the French grid operators' signals (EDF SEI evening peak; the mainland's
EcoWatt, Tempo, local flexibility, NEBCO), translated by `mapping.dso`, stored as 2.0b events.

The same message (kind and the operator's message id) twice creates its events once: the second time
answers 200 with the same event ids. Day-based kinds (EcoWatt, Tempo, SEI peak) keep one event per
day: a newer message for a day modifies that day's event. All of a message's events are stored in one
transaction, or none. A zone's kW (local flexibility, NEBCO) is shared among the zone's registered
sites, one event each (`mapping.dso.zones`, with what the sites file says of them); a zone none of
whose sites has registered answers 409. Each kind of each client is its own source,
`dso:<client>/<kind>`: two mechanisms never refuse each other's overlapping events (`vtn.admin.events`).
"""

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web

from mapping.dso import ecowatt, local_flex, nebco, sei_peak, tempo
from mapping.dso.common import EventSpec, Translation
from mapping.dso.zones import NoSite, SiteCapability
from mapping.grid import QUARTER
from mapping.oadr import model as m
from mapping.refusal import Refused
from vtn.admin import events as event_admin
from vtn.auth.tokens import Grant
from vtn.domain import LiveEvent
from vtn.dso.openadr3.common import Api, Conflict, Handler, NotFound, json_body, ok
from vtn.dso.openadr3.event_ops import source_of
from vtn.dso.zones import zone_directory
from vtn.store import Tx
from vtn.store import dso_repository as dso_repo
from vtn.store import repository as repo


def signal_source(client_id: str, kind: str) -> str:
    """The source of a client's events of one signal kind: a grid source of its own (`dso:<client>/<kind>`)."""
    return f"{source_of(client_id)}/{kind}"


def _translate(api: Api, kind: str, body: Any, capabilities: Mapping[str, SiteCapability]) -> Translation:
    settings = api.ctx.config.dso.signals.get(kind)
    if settings is None:
        raise NotFound(f"kind: signal kind {kind!r} is not configured ([dso.signals.{kind}])")
    if kind == "ecowatt":
        return ecowatt.translate(body, settings)
    if kind == "tempo":
        return tempo.translate(body, settings)
    if kind in ("local-flex", "nebco"):
        adapter = local_flex if kind == "local-flex" else nebco
        try:
            return adapter.translate(body, settings, zone_directory(api.ctx.live, capabilities))
        except NoSite as exc:
            raise Conflict(str(exc)) from exc
    return sei_peak.translate(body, settings)


def draft_signal_event(spec: EventSpec, market_context: str, now: datetime, near_window: timedelta) -> m.Event:
    """The 2.0b event an adapter's EventSpec asks for, in the program of `market_context` (also the spot-price import's)."""
    return event_admin.draft_uniform_event(
        spec.signal_name,
        spec.signal_type,
        list(spec.values),
        QUARTER,
        spec.unit,
        market_context=market_context,
        dtstart=spec.start,
        now=now,
        near_window=near_window,
        target=spec.target,
        event_id=spec.key,
        priority=spec.priority,
        vtn_comment=spec.comment,
    )


def apply_message(
    session: Tx, kind: str, message_id: str, client_id: str, events: list[m.Event], now: datetime, near_window: timedelta
) -> tuple[bool, list[str], list[m.Event]]:
    """(duplicate, event ids, events changed, as stored) — creates or modifies the events and records the message."""
    seen = dso_repo.find_message(session, kind, message_id)
    if seen is not None:
        if seen[0] != client_id:
            raise event_admin.EventRefused(f"message {message_id} of kind {kind} was sent by another client")
        return True, seen[1], []
    changed, source = [], signal_source(client_id, kind)
    for event in events:
        found = repo.load_event(session, event.event_id)
        if found is None:
            changed.append(event_admin.create_event(session, event, source, now))
            continue
        changes = {
            "dtstart": event.dtstart,
            "signals": event.signals,
            "target": event.target,
            "priority": event.priority,
            "vtn_comment": event.vtn_comment,
        }
        changed.append(
            event_admin.modify_event(
                session, event.event_id, now, near_window, f"{kind} message {message_id}", actor=source, **changes
            )
        )
    dso_repo.record_message(session, kind, message_id, client_id, [e.event_id for e in events], now)
    return False, [e.event_id for e in events], changed


def post_signal(capabilities: Mapping[str, SiteCapability]) -> Handler:
    """The handler of POST /dso/signals/<kind>; `capabilities` (the sites file's, read at start-up) weigh
    each site's share of a zone's kW."""

    async def handle(api: Api, request: web.Request, grant: Grant) -> web.Response:
        return await _post_signal(api, request, grant, capabilities)

    return handle


async def _post_signal(api: Api, request: web.Request, grant: Grant, capabilities: Mapping[str, SiteCapability]) -> web.Response:
    """Translate, store and answer with the event ids (201; 200 for a message already handled)."""
    kind = request.match_info["kind"]
    translation = _translate(api, kind, await json_body(request), capabilities)
    settings = api.ctx.config.dso.signals[kind]
    program = await api.ctx.store.call(dso_repo.load_program, settings.program_id)
    if program is None:
        raise Conflict(f"kind: the program {settings.program_id!r} configured for {kind} does not exist")
    now = api.ctx.now()
    try:
        near = api.ctx.config.near_window
        drafts = [draft_signal_event(spec, program.market_context, now, near) for spec in translation.events]
    except event_admin.EventRefused as exc:
        raise Refused("body", str(exc)) from exc
    duplicate, event_ids, changed = await api.ctx.store.call(
        apply_message, kind, translation.message_id, grant.client_id, drafts, now, api.ctx.config.near_window
    )
    for event in changed:
        live = LiveEvent(event=event, source=signal_source(grant.client_id, kind))
        api.ctx.live.put_event(live)
        api.lifecycle.schedule(live)
    answer = {"kind": kind, "message_id": translation.message_id, "event_ids": event_ids, "duplicate": duplicate}
    if translation.notes:
        answer["notes"] = list(translation.notes)
    return ok(answer, status=200 if duplicate else 201)

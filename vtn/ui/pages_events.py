"""The event log (filters, keyset pages, CSV export), the event detail page, and its deliveries as CSV and JSON."""

import csv
import io
from dataclasses import replace
from datetime import UTC, datetime, tzinfo
from urllib.parse import urlencode

from aiohttp import web

from mapping.oadr import model as m
from mapping.oadr.lifecycle import event_end
from mapping.oadr.timefmt import format_datetime, format_duration
from vtn.csv_export import attachment, safe_row
from vtn.curtailment.query import event_curtailment
from vtn.store import event_log as log
from vtn.store import report_repository as reports
from vtn.store import repository as repo
from vtn.ui import formatting
from vtn.ui.auth import operator_of
from vtn.ui.curtailment_view import VERDICT_HINT, curtailment_blocks
from vtn.ui.formatting import parse_local, site_order, zone_name
from vtn.ui.state import UiState, render, state
from vtn.ui.timeline import build_timeline

#: VEN rows shown on an event's page; the CSV has them all
DELIVERY_ROWS = 500
DELIVERY_COLUMNS = (
    "ven_id", "ven_name", "first_delivered", "delivered_modification", "acknowledged_modification", "opt_type",
    "response_code", "responded_at",
)  # fmt: skip
FILTER_KEYS = ("status", "program", "site", "from", "to", "sort", "order")
CSV_COLUMNS = (
    "event_id", "source", "program", "market_context", "status", "cancelled", "modification_number", "priority", "dtstart",
    "end", "duration", "signals", "targets", "created_at", "modified_at", "delivered_vens", "opted_in", "opted_out",
)  # fmt: skip


def add_routes(router: web.UrlDispatcher) -> None:
    """Register the event pages."""
    router.add_get("/events", event_list)
    router.add_get("/events.csv", event_csv)
    router.add_get("/events/{event_id}", event_detail)
    router.add_get("/events/{event_id}/deliveries.csv", delivery_csv)
    router.add_get("/events/{event_id}/deliveries.json", delivery_json)


def _day(text: str, field: str, end_of_day: bool, zone: tzinfo) -> datetime:
    """A date in `zone` (the day's start, or the next day's start for an upper bound), or a time."""
    try:
        return parse_local(text, zone, next_day=end_of_day)
    except (ValueError, OverflowError) as exc:  # OverflowError: 9999-12-31 + 1 day
        expected = f"a date (YYYY-MM-DD, {zone_name(zone)}) or a time"
        raise web.HTTPBadRequest(text=f"{field}: expected {expected}, got {text!r}") from exc


def parse_filter(ui: UiState, query: dict[str, str]) -> log.EventFilter:
    """The filter a query string asks for; a bad value is a 400 naming the field."""
    status = query.get("status") or None
    if status and status not in log.STATUSES:
        raise web.HTTPBadRequest(text=f"status: expected one of {', '.join(log.STATUSES)}, got {status!r}")
    program = query.get("program") or None
    market_context = None
    if program:
        known = {p.program_id: p.market_context for p in ui.ctx.config.programs}
        market_context = known.get(program, program if "://" in program else None)
        if market_context is None:
            raise web.HTTPBadRequest(text=f"program: unknown program {program!r} (known: {', '.join(known) or 'none'})")
    site = (query.get("site") or "").strip()
    ven_id = ui.ven_id_for(site) if site else None
    sort = query.get("sort") or "dtstart"
    if sort not in log.SORTS:
        raise web.HTTPBadRequest(text=f"sort: expected one of {', '.join(log.SORTS)}, got {sort!r}")
    order = query.get("order") or "desc"
    if order not in ("asc", "desc"):
        raise web.HTTPBadRequest(text=f"order: expected asc or desc, got {order!r}")
    after = None
    if query.get("after"):
        value, _, event_id = query["after"].partition("|")
        try:
            moment = datetime.fromisoformat(value)
            # a cursor is written in UTC; one without an offset is read as UTC too, never as local time
            after = (moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC), event_id)
        except ValueError as exc:
            raise web.HTTPBadRequest(text=f"after: not a page cursor: {query['after']!r}") from exc
    return log.EventFilter(
        status=status,
        market_context=market_context,
        ven_id=ven_id,
        since=_day(query["from"], "from", False, ui.zone) if query.get("from") else None,
        until=_day(query["to"], "to", True, ui.zone) if query.get("to") else None,
        sort=sort,
        descending=order == "desc",
        after=after,
    )


async def event_list(request: web.Request) -> web.Response:
    """GET /ui/events — one page of the event log."""
    ui = state(request)
    query = {k: request.query.get(k, "") for k in (*FILTER_KEYS, "after")}
    flt = parse_filter(ui, query)
    rows, more = await ui.store.call(log.event_page, flt)
    kept = {k: v for k, v in query.items() if v and k != "after"}
    next_query = None
    if more:
        last = rows[-1]
        next_query = urlencode({**kept, "after": f"{last.cursor_value(flt.sort).isoformat()}|{last.event.event_id}"})
    programs = await ui.store.call(repo.list_programs)
    return render(
        request,
        "events.html",
        title="Event log",
        rows=rows,
        f=flt,
        q=query,
        statuses=log.STATUSES,
        programs=programs,
        program_names={mc: name for _, mc, name in programs},
        csv_query=urlencode(kept),
        first_query=urlencode(kept),
        next_query=next_query,
    )


def csv_line(row: log.EventRow, program_names: dict[str, str]) -> dict[str, object]:
    """One event as a CSV record."""
    e = row.event
    end = event_end(e.dtstart, e.duration)
    return {
        "event_id": e.event_id,
        "source": row.source,
        "program": program_names.get(e.market_context, ""),
        "market_context": e.market_context,
        "status": e.status,
        "cancelled": str(row.cancelled).lower(),
        "modification_number": e.modification_number,
        "priority": "" if e.priority is None else e.priority,
        "dtstart": format_datetime(e.dtstart),
        "end": format_datetime(end) if end else "",
        "duration": format_duration(e.duration),
        "signals": formatting.signals(e),
        "targets": formatting.targets(e),
        "created_at": format_datetime(row.created_at),
        "modified_at": format_datetime(row.modified_at),
        "delivered_vens": row.delivered,
        "opted_in": row.opted_in,
        "opted_out": row.opted_out,
    }


async def event_csv(request: web.Request) -> web.StreamResponse:
    """GET /ui/events.csv — every event the filter matches, written a thousand at a time."""
    ui = state(request)
    flt = parse_filter(ui, {k: request.query.get(k, "") for k in FILTER_KEYS})
    program_names = {mc: name for _, mc, name in await ui.store.call(repo.list_programs)}
    response = web.StreamResponse(
        headers={"Content-Type": "text/csv; charset=utf-8", "Content-Disposition": 'attachment; filename="events.csv"'}
    )
    await response.prepare(request)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    current = flt
    while True:
        rows, more = await ui.store.call(log.event_page, current, 1000)
        for row in rows:
            writer.writerow(safe_row(csv_line(row, program_names)))
        await response.write(buffer.getvalue().encode())
        buffer.seek(0)
        buffer.truncate()
        if not more:
            break
        current = replace(current, after=(rows[-1].cursor_value(flt.sort), rows[-1].event.event_id))
    await response.write_eof()
    return response


async def event_detail(request: web.Request) -> web.Response:
    """GET /ui/events/{id} — facts, curtailment chart, timeline, per-VEN delivery, covering opts."""
    ui = state(request)
    event_id = request.match_info["event_id"]
    found = await ui.store.call(log.event_meta, event_id)
    if found is None:
        raise web.HTTPNotFound(text=f"event_id: no event {event_id}")
    event, source, cancelled, closed, _created, _modified = found
    history = await ui.store.call(log.event_history, event_id)
    deliveries = await ui.store.call(log.event_delivery, event_id)
    end = event_end(event.dtstart, event.duration)
    opts = await ui.store.call(reports.opts_covering, event_id, event.dtstart, end, event.market_context)
    curtailment = await ui.store.call(event_curtailment, event_id, None, ui.settlement)
    deliveries.sort(key=lambda d: site_order(d.ven_name, d.ven_id))
    programs = {mc: name for _, mc, name in await ui.store.call(repo.list_programs)}
    return render(
        request,
        "event.html",
        title=f"Event {event_id}",
        e=event,
        source=source,
        program=programs.get(event.market_context, event.market_context),
        can_cancel=operator_of(request).may_act and not (closed or cancelled),
        charts=curtailment_blocks(curtailment, ui.zone),
        verdict_hint=VERDICT_HINT,
        ratio=curtailment.ratio,
        method=curtailment.method,
        timeline=build_timeline(event.dtstart, event.duration, history, deliveries, opts, cancelled, ui.now(), ui.zone),
        deliveries=deliveries[:DELIVERY_ROWS],
        more_deliveries=max(0, len(deliveries) - DELIVERY_ROWS),
        opts=opts,
    )


def _delivery_record(d: log.VenDelivery) -> dict[str, object]:
    """How the event reached one VEN (DELIVERY_COLUMNS), times in UTC ISO 8601, None where there is none."""
    return {
        **d.__dict__,
        "first_delivered": format_datetime(d.first_delivered) if d.first_delivered else None,
        "responded_at": format_datetime(d.responded_at) if d.responded_at else None,
    }


async def _deliveries(ui: UiState, event_id: str) -> tuple[m.Event, bool, list[log.VenDelivery]]:
    """The event, whether it was cancelled, and how it reached every VEN in site order; 404 for no such event."""
    found = await ui.store.call(log.event_meta, event_id)
    if found is None:
        raise web.HTTPNotFound(text=f"event_id: no event {event_id}")
    event, _source, cancelled, *_ = found
    deliveries = await ui.store.call(log.event_delivery, event_id)
    return event, cancelled, sorted(deliveries, key=lambda d: site_order(d.ven_name, d.ven_id))


async def delivery_csv(request: web.Request) -> web.Response:
    """GET /ui/events/{id}/deliveries.csv — how the event reached every VEN."""
    event_id = request.match_info["event_id"]
    _event, _cancelled, deliveries = await _deliveries(state(request), event_id)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=DELIVERY_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for d in deliveries:
        writer.writerow(safe_row(_delivery_record(d)))  # DictWriter writes None as an empty cell
    return web.Response(
        text=buffer.getvalue(),
        content_type="text/csv",
        headers={"Content-Disposition": attachment(f"{event_id}-deliveries")},
    )


async def delivery_json(request: web.Request) -> web.Response:
    """GET /ui/events/{id}/deliveries.json — the event's status and the CSV's rows: every VEN it was delivered to
    or that answered it, with its latest optIn/optOut (scripts, the demo)."""
    event, cancelled, deliveries = await _deliveries(state(request), request.match_info["event_id"])
    return web.json_response(
        {
            "event_id": event.event_id,
            "status": event.status,
            "cancelled": cancelled,
            "deliveries": [_delivery_record(d) for d in deliveries],
        }
    )

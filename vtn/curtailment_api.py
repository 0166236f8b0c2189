"""HTTP API of achieved curtailment: per event (JSON, CSV) and per VEN (JSON), in the operator UI's
application (behind its login; viewers may read):

GET /ui/events/{event_id}/curtailment.json   → vtn.curtailment_query.as_json (`?ven=` for one VEN)
GET /ui/events/{event_id}/curtailment.csv    → CSV_COLUMNS rows, per VEN then totals (`*`)
GET /ui/vens/{ven_id}/curtailment.json       → {"ven_id", "events": [as_json …]}, newest first
"""

import csv
import io

from aiohttp import web

from vtn import curtailment_query as query
from vtn.context import VtnContext


def add_routes(app: web.Application, ctx: VtnContext) -> None:
    """Register the routes on the UI application (its middleware authenticates every request)."""

    async def event_json(request: web.Request) -> web.Response:
        return web.json_response(query.as_json(await _event(ctx, request)))

    async def event_csv(request: web.Request) -> web.Response:
        found = await _event(ctx, request)
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(query.CSV_COLUMNS)
        writer.writerows(query.as_rows(found))
        return web.Response(
            text=out.getvalue(),
            content_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="curtailment-{found.event_id}.csv"'},
        )

    async def ven_json(request: web.Request) -> web.Response:
        ven_id = request.match_info["ven_id"]
        events = await ctx.store.call(query.ven_curtailment, ven_id)
        return web.json_response({"ven_id": ven_id, "events": [query.as_json(e) for e in events]})

    app.router.add_get("/events/{event_id}/curtailment.json", event_json)
    app.router.add_get("/events/{event_id}/curtailment.csv", event_csv)
    app.router.add_get("/vens/{ven_id}/curtailment.json", ven_json)


async def _event(ctx: VtnContext, request: web.Request) -> query.EventCurtailment:
    event_id = request.match_info["event_id"]
    ven_id = request.query.get("ven")
    try:
        return await ctx.store.call(query.event_curtailment, event_id, ven_id)
    except query.UnknownEvent as exc:
        raise web.HTTPNotFound(text=f"event_id: {exc}") from exc

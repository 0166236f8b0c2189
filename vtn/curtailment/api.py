"""HTTP API of achieved curtailment: per event (JSON, CSV) and per VEN (JSON), in the operator UI's
application (behind its login; viewers may read):

GET /ui/events/{event_id}/curtailment.json   → vtn.curtailment.query.as_json (`?ven=` for one VEN)
GET /ui/events/{event_id}/curtailment.csv    → CSV_COLUMNS rows, per VEN then totals (`*`)
GET /ui/events/{event_id}/curtailment.txt    → vtn.curtailment.table: the table `cariflex reports curtailment
                                               --format table` and the demo print
GET /ui/vens/{ven_id}/curtailment.json       → {"ven_id", "events": [as_json …]}, newest first
"""

import csv
import io

from aiohttp import web

from vtn.csv_export import attachment, safe_values
from vtn.curtailment import query
from vtn.curtailment.settings import Settlement
from vtn.curtailment.table import table_lines
from vtn.store import repository as repo
from vtn.store.worker import StoreWorker


def add_routes(app: web.Application, store: StoreWorker, settlement: Settlement) -> None:
    """Register the routes on the UI application (its middleware authenticates every request); `store`
    is the UI's own handle, so these reads never queue behind the VENs' polls; `settlement` the programs' methods and the
    sites' contracts and delivery points (read once from vtn.toml and the sites file)."""

    async def event_json(request: web.Request) -> web.Response:
        return web.json_response(query.as_json(await _event(store, settlement, request)))

    async def event_csv(request: web.Request) -> web.Response:
        found = await _event(store, settlement, request)
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(query.CSV_COLUMNS)
        writer.writerows(safe_values(row) for row in query.as_rows(found))
        return web.Response(
            text=out.getvalue(),
            content_type="text/csv",
            headers={"Content-Disposition": attachment(f"curtailment-{found.event_id}")},
        )

    async def event_table(request: web.Request) -> web.Response:
        return web.Response(text="\n".join(table_lines(await _event(store, settlement, request))) + "\n")

    async def ven_json(request: web.Request) -> web.Response:
        ven_id = request.match_info["ven_id"]
        if await store.call(repo.load_ven, ven_id) is None:
            raise web.HTTPNotFound(text=f"ven_id: no VEN {ven_id}")
        events = await store.call(query.ven_curtailment, ven_id, settlement)
        return web.json_response({"ven_id": ven_id, "events": [query.as_json(e) for e in events]})

    app.router.add_get("/events/{event_id}/curtailment.json", event_json)
    app.router.add_get("/events/{event_id}/curtailment.csv", event_csv)
    app.router.add_get("/events/{event_id}/curtailment.txt", event_table)
    app.router.add_get("/vens/{ven_id}/curtailment.json", ven_json)


async def _event(store: StoreWorker, settlement: Settlement, request: web.Request) -> query.EventCurtailment:
    event_id = request.match_info["event_id"]
    ven_id = request.query.get("ven")
    try:
        return await store.call(query.event_curtailment, event_id, ven_id, settlement)
    except query.UnknownEvent as exc:
        raise web.HTTPNotFound(text=f"event_id: {exc}") from exc

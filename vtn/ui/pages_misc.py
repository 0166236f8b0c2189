"""The reports page (browse and download stored telemetry) and the audit log."""

import csv
import io
import json
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta, tzinfo
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from mapping.curtailment import report as curtailment_report
from vtn.csv_export import safe_row
from vtn.store import Tx
from vtn.store import report_repository as reports
from vtn.store import ui_repository as users
from vtn.ui.formatting import MINUTES, parse_local, unit_symbol, zone_name
from vtn.ui.state import UiState, render, state

PAGE_POINTS = 500
CSV_POINTS = 1_000_000
REPORT_KEYS = ("ven", "report", "rid", "since", "until")
#: the 'From' field's example: this long before now
SINCE_HINT = timedelta(hours=24)
#: units the VTN knows without a VEN's description (docs/curtailment.md: kW throughout)
KNOWN_UNITS = {curtailment_report.REPORT_NAME: "kW"}


def add_routes(router: web.UrlDispatcher) -> None:
    """Register the reports and audit pages."""
    router.add_get("/reports", report_page)
    router.add_get("/reports.csv", report_csv)
    router.add_get("/audit", audit_page)


def _time(query: dict[str, str], key: str, zone: tzinfo, upper: bool) -> datetime | None:
    """A filter time, read in the UI's zone unless it carries an offset; a date alone is a whole day."""
    if not query.get(key):
        return None
    try:
        return parse_local(query[key], zone, next_day=upper)
    except (ValueError, OverflowError) as exc:
        expected = f"a time such as 2026-11-26 18:00 ({zone_name(zone)}) or 2026-11-26T22:00:00Z"
        raise web.HTTPBadRequest(text=f"{key}: expected {expected}, got {query[key]!r}") from exc


def _point_filter(ui: UiState, query: dict[str, str]) -> dict[str, object]:
    return {
        "ven_id": ui.ven_id_for(query["ven"]) if query.get("ven") else None,
        "report_name": query.get("report") or None,
        "r_id": query.get("rid") or None,
        "since": _time(query, "since", ui.zone, False),
        "until": _time(query, "until", ui.zone, True),
    }


def registered_units(session: Tx, ven_ids: Iterable[str]) -> dict[tuple[str, str, str], str]:
    """(venID, report name, rID) → unit symbol ('kW') of what those VENs registered."""
    # a VEN registers METADATA_TELEMETRY_USAGE and sends TELEMETRY_USAGE (2.0b names the data report so)
    return {
        (ven_id, name.removeprefix("METADATA_"), d.r_id): unit_symbol(d.unit)
        for ven_id, _, name, d in reports.descriptions_of(session, ven_ids)
    }


def point_rows(
    points: Iterable[Mapping[str, Any]], names: Mapping[str, str | None], units: Mapping[tuple[str, str, str], str]
) -> list[dict[str, Any]]:
    """Stored points as the page shows them: with the site name and the unit (from the VEN's report
    registration, or known to the VTN; '' when neither says)."""
    return [
        {
            **p,
            "site": names.get(p["ven_id"]) or p["ven_id"],
            "unit": units.get((p["ven_id"], p["report_name"], p["r_id"])) or KNOWN_UNITS.get(p["report_name"] or "", ""),
        }
        for p in points
    ]


async def report_page(request: web.Request) -> web.Response:
    """GET /ui/reports — the first stored points matching the filter, values rounded with their unit."""
    ui = state(request)
    query = {k: request.query.get(k, "").strip() for k in REPORT_KEYS}
    points = await ui.store.call(reports.points, **_point_filter(ui, query), limit=PAGE_POINTS)
    ven_ids = {p["ven_id"] for p in points}
    units = await ui.store.call(registered_units, ven_ids)
    live = ui.ctx.live.vens
    names = {v: live[v].ven_name if v in live else None for v in ven_ids}
    return render(
        request,
        "reports.html",
        title="Reports",
        q=query,
        points=point_rows(points, names, units),
        limit=PAGE_POINTS,
        query=urlencode({k: v for k, v in query.items() if v}),
        since_hint=(ui.now() - SINCE_HINT).astimezone(ui.zone).strftime(MINUTES),
    )


def points_csv(points: list[dict[str, object]]) -> str:
    """Stored points as CSV, in the columns of `cariflex reports data --format csv`."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=reports.POINT_COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in points:
        writer.writerow(safe_row({**row, "status": json.dumps(row["status"]) if row["status"] else ""}))
    return buffer.getvalue()


async def report_csv(request: web.Request) -> web.Response:
    """GET /ui/reports.csv — every stored point matching the filter."""
    ui = state(request)
    query = {k: request.query.get(k, "").strip() for k in REPORT_KEYS}
    points = await ui.store.call(reports.points, **_point_filter(ui, query), limit=CSV_POINTS)
    return web.Response(
        text=points_csv(points),
        content_type="text/csv",
        headers={"Content-Disposition": 'attachment; filename="telemetry.csv"'},
    )


async def audit_page(request: web.Request) -> web.Response:
    """GET /ui/audit — who did what, newest first."""
    ui = state(request)
    return render(request, "audit.html", title="Audit log", entries=await ui.store.call(users.audit_log))

"""The reports page (browse and download stored telemetry) and the audit log."""

import csv
import io
import json
from datetime import datetime
from urllib.parse import urlencode

from aiohttp import web

from mapping.oadr.codes import OadrError
from mapping.oadr.timefmt import parse_datetime
from vtn.cli_reports import DATA_COLUMNS
from vtn.csv_export import safe_row
from vtn.store import report_repository as reports
from vtn.store import ui_repository as users
from vtn.ui.web import render, state

PAGE_POINTS = 500
CSV_POINTS = 1_000_000
REPORT_KEYS = ("ven", "report", "rid", "since", "until")


def add_routes(router: web.UrlDispatcher) -> None:
    """Register the reports and audit pages."""
    router.add_get("/reports", report_page)
    router.add_get("/reports.csv", report_csv)
    router.add_get("/audit", audit_page)


def _time(query: dict[str, str], key: str) -> datetime | None:
    if not query.get(key):
        return None
    try:
        return parse_datetime(query[key])
    except OadrError as exc:
        raise web.HTTPBadRequest(text=f"{key}: expected a UTC time such as 2026-11-26T00:00:00Z, got {query[key]!r}") from exc


def _point_filter(query: dict[str, str]) -> dict[str, object]:
    return {
        "ven_id": query.get("ven") or None,
        "report_name": query.get("report") or None,
        "r_id": query.get("rid") or None,
        "since": _time(query, "since"),
        "until": _time(query, "until"),
    }


async def report_page(request: web.Request) -> web.Response:
    """GET /ui/reports — the first stored points matching the filter."""
    ui = state(request)
    query = {k: request.query.get(k, "").strip() for k in REPORT_KEYS}
    points = await ui.store.call(reports.points, **_point_filter(query), limit=PAGE_POINTS)
    return render(
        request,
        "reports.html",
        title="Reports",
        q=query,
        points=points,
        limit=PAGE_POINTS,
        query=urlencode({k: v for k, v in query.items() if v}),
    )


def points_csv(points: list[dict[str, object]]) -> str:
    """Stored points as CSV, in the columns of `cariflex reports data --format csv`."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=DATA_COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in points:
        writer.writerow(safe_row({**row, "status": json.dumps(row["status"]) if row["status"] else ""}))
    return buffer.getvalue()


async def report_csv(request: web.Request) -> web.Response:
    """GET /ui/reports.csv — every stored point matching the filter."""
    ui = state(request)
    query = {k: request.query.get(k, "").strip() for k in REPORT_KEYS}
    points = await ui.store.call(reports.points, **_point_filter(query), limit=CSV_POINTS)
    return web.Response(
        text=points_csv(points),
        content_type="text/csv",
        headers={"Content-Disposition": 'attachment; filename="telemetry.csv"'},
    )


async def audit_page(request: web.Request) -> web.Response:
    """GET /ui/audit — who did what, newest first."""
    ui = state(request)
    return render(request, "audit.html", title="Audit log", entries=await ui.store.call(users.audit_log))

"""/reports, read only: what our 2.0b VENs reported during the client's events (see mapping.openadr3.reports).

Reports come from 2.0b VENs, so creating, changing or deleting them here is refused (403: the spec
gives write_reports to VENs only).
"""

from typing import Any

from aiohttp import web

from mapping.oadr.lifecycle import event_end
from mapping.openadr3.reports import build_report
from vtn.auth.http import AuthFailed
from vtn.auth.tokens import Grant
from vtn.dso.openadr3.common import Api, NotFound, ok, page, path_id
from vtn.store import Tx
from vtn.store import dso_repository as dso_repo
from vtn.store import report_repository as report_repo
from vtn.store import repository as repo

#: most points put in one report
MAX_POINTS = 10_000


def gather(session: Tx, client_id: str, version: str, program_id: str | None, event_id: str | None) -> list[dict[str, Any]]:
    """The reports of a client's events (one transaction)."""
    reports = []
    for upstream in dso_repo.list_upstream_events(session, client_id, program_id):
        if event_id is not None and upstream.event_id != event_id:
            continue
        found = repo.load_event(session, upstream.event_id)
        if found is None:
            continue
        event = found[0].event
        end = event_end(event.dtstart, event.duration)
        ven_ids = sorted({ven_id for ven_id, _, _ in repo.event_deliveries(session, upstream.event_id)})
        for ven in repo.load_vens_by_id(session, ven_ids):
            types = {d.r_id: d.report_type for _, _, d in report_repo.descriptions(session, ven.ven_id)}
            points = report_repo.points(session, ven_id=ven.ven_id, since=event.dtstart, until=end, limit=MAX_POINTS)
            reports.append(
                build_report(
                    event_id=upstream.event_id,
                    program_id=upstream.program_id,
                    ven_id=ven.ven_id,
                    ven_name=ven.ven_name or ven.ven_id,
                    points=points,
                    report_types=types,
                    created=upstream.created_at,
                    version=version,
                )
            )
    return reports


async def search_reports(api: Api, request: web.Request, grant: Grant) -> web.Response:
    """GET /reports (programID in 3.0.1, eventID, clientName, skip/limit)."""
    skip, limit = page(request)
    program_id = request.query.get("programID") if api.version == "3.0.1" else None
    reports = await api.ctx.store.call(gather, grant.client_id, api.version, program_id, request.query.get("eventID"))
    if request.query.get("clientName") is not None:
        reports = [r for r in reports if r["clientName"] == request.query["clientName"]]
    return ok(reports[skip : skip + limit])


async def read_report(api: Api, request: web.Request, grant: Grant) -> web.Response:
    """GET /reports/{reportID}."""
    report_id = path_id(request, "reportID")
    for report in await api.ctx.store.call(gather, grant.client_id, api.version, None, None):
        if report["id"] == report_id:
            return ok(report)
    raise NotFound(f"reportID: no report {report_id}")


async def refuse_write(api: Api, request: web.Request, grant: Grant) -> web.Response:
    """Reports come from the 2.0b VENs."""
    raise AuthFailed(403, "reports come from the VTN's OpenADR 2.0b VENs; they cannot be written here")

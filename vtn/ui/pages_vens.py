"""The VEN list with the site map (and as JSON, for scripts and the demo), and one VEN's page."""

from collections.abc import Callable
from datetime import datetime
from urllib.parse import urlencode

from aiohttp import web

from mapping.oadr.timefmt import format_datetime
from vtn.store import report_repository as reports
from vtn.store import ven_overview as vens
from vtn.ui.formatting import site_order
from vtn.ui.sitemap import MapPoint, render_map
from vtn.ui.state import UiState, render, state

#: answers to events shown on a VEN's page (the newest events)
ANSWERS = 50


def add_routes(router: web.UrlDispatcher) -> None:
    """Register the VEN pages."""
    router.add_get("/vens", ven_list)
    router.add_get("/vens.json", ven_list_json)
    router.add_get("/vens/{ven_id}", ven_detail)


def _liveness(ui: UiState) -> tuple[Callable[[vens.VenSummary], datetime | None], Callable[[vens.VenSummary], bool]]:
    """last-poll and online functions: the store's last-seen time, or this process's newer unflushed one."""
    now, limit, unflushed = ui.now(), ui.ctx.config.ui.offline_after, ui.ctx.seen

    def seen(v: vens.VenSummary) -> datetime | None:
        times = [t for t in (v.last_seen_at, unflushed.get(v.ven_id)) if t is not None]
        return max(times) if times else None

    def online(v: vens.VenSummary) -> bool:
        last = seen(v)
        return v.registration_id is not None and last is not None and now - last <= limit

    return seen, online


async def _page(ui: UiState, request: web.Request) -> tuple[str, tuple[str, str] | None, list[vens.VenSummary], str | None]:
    """The search text, the cursor asked for, one page of VENs in site-name order (a hundred), and the next
    page's query string (None on the last page)."""
    q = request.query.get("q", "").strip()
    # the page cursor: the last row's site name and venID (the list's sort key)
    after = (request.query.get("after_site", ""), request.query["after"]) if request.query.get("after") else None
    rows, more = await ui.store.call(vens.ven_page, after, q or None)
    tail = rows[-1] if rows else None
    if more and tail:
        after_site, after_id = site_order(tail.ven_name, tail.ven_id)
        next_query = urlencode({"q": q, "after_site": after_site, "after": after_id})
    else:
        next_query = None
    return q, after, rows, next_query


async def ven_list(request: web.Request) -> web.Response:
    """GET /ui/vens — the map of the sites and the VENs in site-name order, a hundred per page."""
    ui = state(request)
    q, after, rows, next_query = await _page(ui, request)
    by_name = await ui.store.call(vens.vens_by_name, [s.ven_name for s in ui.sites])
    now, limit = ui.now(), ui.ctx.config.ui.offline_after
    points = []
    for site in ui.sites:
        ven_id, last = by_name.get(site.ven_name, (None, None))
        last = max([t for t in (last, ui.ctx.seen.get(ven_id or "")) if t is not None], default=None)
        points.append(MapPoint(site, ven_id, last is not None and now - last <= limit))
    seen, online = _liveness(ui)
    return render(
        request,
        "vens.html",
        title="VENs",
        vens=rows,
        q=q,
        after=after,
        next_query=next_query,
        map_svg=render_map(points, ui.ctx.config.ui.tiles_url),
        seen=seen,
        online=online,
    )


async def ven_list_json(request: web.Request) -> web.Response:
    """GET /ui/vens.json — the page's VENs as JSON (the same `q`, `after_site` and `after`): what each registered
    and offers, and whether it is online; `next` is the following page's URL, null on the last."""
    ui = state(request)
    _q, _after, rows, next_query = await _page(ui, request)
    seen, online = _liveness(ui)

    def record(v: vens.VenSummary) -> dict[str, object]:
        last = seen(v)
        return {
            "ven_id": v.ven_id,
            "ven_name": v.ven_name,
            "registration_id": v.registration_id,
            "registered_at": format_datetime(v.registered_at) if v.registered_at else None,
            "last_seen_at": format_datetime(last) if last else None,
            "online": online(v),
            "http_pull_model": v.http_pull_model,
            "reports": list(v.reports),
            "opt_schedules": v.opt_schedules,
        }

    return web.json_response({"vens": [record(v) for v in rows], "next": f"/ui/vens.json?{next_query}" if next_query else None})


async def ven_detail(request: web.Request) -> web.Response:
    """GET /ui/vens/{id} — the site (commune, asset, subscribed power), registration, liveness, reports,
    answers to events and opts of one VEN, and its actions."""
    ui = state(request)
    ven_id = request.match_info["ven_id"]
    summary = await ui.store.call(vens.one_ven, ven_id)
    if summary is None:
        raise web.HTTPNotFound(text=f"ven_id: no VEN {ven_id}")
    seen, online = _liveness(ui)
    return render(
        request,
        "ven.html",
        title=f"VEN {ven_id}",
        v=summary,
        site=ui.site_of(summary.ven_name),
        requests=await ui.store.call(reports.list_requests, ven_id),
        answers=await ui.store.call(vens.event_answers, ven_id, ANSWERS),
        answers_limit=ANSWERS,
        opts=await ui.store.call(reports.list_opts, ven_id),
        seen=seen,
        online=online,
    )

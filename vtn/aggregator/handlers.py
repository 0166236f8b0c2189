"""The aggregator API's handlers: sites, orders (activate / modify / cancel / status), series."""

from dataclasses import replace
from datetime import datetime
from typing import Any

from aiohttp import web

from mapping.flexready.clock import utc_text, window
from mapping.flexready.offers import check, group_offer, shares
from mapping.flexready.orders import Order, client_id_of, parse_order
from mapping.flexready.plans import SitePlan
from mapping.flexready.scope import Scope
from mapping.flexready.series import parse_series
from mapping.flexready.sites import Unknown
from mapping.grid import QUARTER
from mapping.oadr.model import EventStatus
from mapping.refusal import Refused
from vtn.aggregator import placement, status, telemetry
from vtn.aggregator.common import SCOPE, AggregatorApi
from vtn.aggregator.offers import offers_for
from vtn.auth.http import problem
from vtn.auth.tokens import Grant
from vtn.domain import LiveEvent
from vtn.dso.openadr3.common import NotFound, json_body, page
from vtn.store import Conflict
from vtn.store import aggregator_repository as agg_repo


def _live(api: AggregatorApi, outcome: placement.Outcome, client_id: str) -> None:
    """Hand the events just written to the running VTN (cache and lifecycle), as the DSO API does."""
    for event in outcome.changed:
        live = LiveEvent(event=event, source=placement.source_of(client_id), cancelled=event.status == EventStatus.CANCELLED)
        api.ctx.live.put_event(live)
        api.lifecycle.schedule(live)


def _check_window(api: AggregatorApi, plans: tuple[SitePlan, ...], field: str, scope: Scope) -> None:
    for plan in plans:  # the client knows its own holdings (GET /sites shows held_until): no leak in saying so
        if not scope.covers(plan.site, plan.start, plan.end):
            holding = scope.current(plan.site, api.ctx.now())
            if holding is not None and plan.start < holding.since:
                raise Refused("start", f"site {plan.site} is in this portfolio from {utc_text(holding.since)} only")
            until = utc_text(holding.until) if holding is not None and holding.until is not None else "the window's end"
            raise Refused(field, f"site {plan.site} leaves this portfolio at {until}, before the window ends")
    if api.ctx.config.aggregator.accept_past_windows:
        return
    now = api.ctx.now()
    if plans and max(p.end for p in plans) <= now:
        raise Refused(field, f"the window is over (it ended before {utc_text(now)})")


async def _answer(api: AggregatorApi, outcome: placement.Outcome, scope: Scope, created: bool) -> web.Response:
    _live(api, outcome, scope.client_id)
    body = await api.ctx.store.call(status.view, outcome.request, api.ctx.now(), api.settlement, scope)
    code = 201 if created and not outcome.duplicate else 200
    return web.json_response(body, status=code)


async def _submit(
    api: AggregatorApi, scope: Scope, kind: str, request_id: str, body: dict[str, Any], plans: tuple[SitePlan, ...]
) -> placement.Outcome:
    args = (scope, kind, request_id, body, plans, api.market_context, api.ctx.now(), api.ctx.config.near_window)
    try:
        return await api.ctx.store.call(placement.submit, *args)
    except Conflict:
        # another VTN process on the same store took this id a moment ago: answer as for a repeat
        return await api.ctx.store.call(placement.submit, *args)


async def get_sites(api: AggregatorApi, _request: web.Request, grant: Grant) -> web.Response:
    """The sites of the client's portfolio (held now), their subscribed power and objective, the groups, the clock."""
    scope = await api.scope(grant)
    portfolio = api.held(scope)
    registered = await api.ctx.store.call(agg_repo.registered_sites, scope, list(portfolio.sites), api.ctx.now())
    now = api.ctx.now()
    sites = [
        {
            "site": site.name,
            "subscribed_kva": site.subscribed_kva,
            "max_power_kw": portfolio.max_kw(site.name),
            "objective": site.objective,
            "groups": sorted(g for g, members in portfolio.groups.items() if site.name in members),
            "registered": site.name in registered,
            **_held(scope, site.name, now),
        }
        for site in portfolio.sites.values()
    ]
    clock = {"step_minutes": 15, "wire_time_zone": "UTC", "local_time_zone": "America/Martinique"}
    groups = {name: list(members) for name, members in portfolio.groups.items()}
    return web.json_response({"clock": clock, "power_factor": portfolio.power_factor, "sites": sites, "groups": groups})


def _held(scope: Scope, site: str, now: datetime) -> dict[str, str | None]:
    holding = scope.current(site, now)
    if holding is None:
        return {"held_since": None, "held_until": None}
    return {"held_since": utc_text(holding.since), "held_until": utc_text(holding.until) if holding.until else None}


async def get_measurements(api: AggregatorApi, request: web.Request, grant: Grant) -> web.Response:
    """A site's metered power (its VEN's TELEMETRY_USAGE), mean kW per 15-minute slot of [start, end); slots
    when the client did not hold the site are left empty (another owner's data)."""
    site = request.match_info["site"]
    scope = await api.scope(grant)
    if site not in api.held(scope).sites:
        raise Unknown("site", f"{site!r} is not a site of this portfolio (GET /flexready/v1/sites lists them)")
    start, slots = window(request.query.get("start"), request.query.get("end"))
    return web.json_response(await api.ctx.store.call(telemetry.site_telemetry, scope, site, start, slots))


async def _body(request: web.Request) -> dict[str, Any]:
    body = await json_body(request)
    if not isinstance(body, dict):
        raise Refused("body", "expected a JSON object")
    return body


async def _within_offer(api: AggregatorApi, scope: Scope, body: dict[str, Any], order: Order, order_id: str | None) -> Order:
    """A delta order checked against what its sites offer over its window (409 with the offer when it asks
    more) and, for a group whose offers are all known, shared by offered flexibility rather than kVA. A limit
    order is an import cap, not an amount of flexibility: it is not checked."""
    if order.mode != "delta":
        return order
    held = api.held(scope)
    end = order.start + order.slots * QUARTER
    offers = await offers_for(api, scope, held, order.sites, order.start, end)
    check(order.power_kw, group_offer(offers), order.direction, "power_kw" if "power_kw" in body else "power")
    weights = shares(order.power_kw, offers, order.direction) if order.group is not None else None
    if weights is None:
        return order
    return parse_order(body, held, client_order_id=order_id, weights=weights)


async def post_order(api: AggregatorApi, request: web.Request, grant: Grant) -> web.Response:
    """Activate a flexibility window: 201 with the order's status (200 for a repeat of the same order)."""
    body = await _body(request)
    scope = await api.scope(grant)
    order = await _within_offer(api, scope, body, parse_order(body, api.held(scope)), None)
    if order.group is not None:  # a site of the group that offers nothing gets no event
        order = replace(order, plans=tuple(p for p in order.plans if any(v != 0 for v in p.values)) or order.plans)
    _check_window(api, order.plans, "end", scope)
    outcome = await _submit(api, scope, "order", order.client_order_id, body, order.plans)
    return await _answer(api, outcome, scope, created=True)


async def put_order(api: AggregatorApi, request: web.Request, grant: Grant) -> web.Response:
    """Modify an order (window, direction, mode, power); its events get a new modification."""
    order_id = client_id_of(request.match_info["request_id"], "client_order_id")
    body = await _body(request)
    scope = await api.scope(grant)
    order = await _within_offer(api, scope, body, parse_order(body, api.held(scope), client_order_id=order_id), order_id)
    _check_window(api, order.plans, "end", scope)
    body = {**body, "client_order_id": order_id}
    now, near = api.ctx.now(), api.ctx.config.near_window
    outcome = await api.ctx.store.call(placement.modify, scope, order_id, body, order.plans, now, near)
    return await _answer(api, outcome, scope, created=False)


async def _cancel(api: AggregatorApi, request: web.Request, grant: Grant, kind: str) -> web.Response:
    request_id = client_id_of(request.match_info["request_id"], status.ID_FIELD[kind])
    scope = await api.scope(grant)
    outcome = await api.ctx.store.call(placement.cancel, scope.client_id, kind, request_id, api.ctx.now())
    return await _answer(api, outcome, scope, created=False)


async def delete_order(api: AggregatorApi, request: web.Request, grant: Grant) -> web.Response:
    """Cancel an order: its events are cancelled at the VENs."""
    return await _cancel(api, request, grant, "order")


async def delete_series(api: AggregatorApi, request: web.Request, grant: Grant) -> web.Response:
    """Cancel a series: its events are cancelled at the VENs."""
    return await _cancel(api, request, grant, "series")


async def _get(api: AggregatorApi, request: web.Request, grant: Grant, kind: str) -> web.Response:
    request_id = client_id_of(request.match_info["request_id"], status.ID_FIELD[kind])
    scope = await api.scope(grant)
    found = await api.ctx.store.call(status.load_view, scope, kind, request_id, api.ctx.now(), api.settlement)
    if found is None:
        raise NotFound(f"{status.ID_FIELD[kind]}: no {kind} {request_id!r} of this aggregator")
    return web.json_response(found)


async def get_order(api: AggregatorApi, request: web.Request, grant: Grant) -> web.Response:
    """An order's status: per site, the acknowledgement and, after the window, measured and achieved."""
    return await _get(api, request, grant, "order")


async def get_series(api: AggregatorApi, request: web.Request, grant: Grant) -> web.Response:
    """A series' status: per site, the event and the acknowledgement."""
    return await _get(api, request, grant, "series")


async def _list(api: AggregatorApi, request: web.Request, grant: Grant, kind: str) -> web.Response:
    skip, limit = page(request)
    scope = await api.scope(grant)
    found = await api.ctx.store.call(status.list_views, scope, kind, api.ctx.now(), api.settlement, limit, skip)
    return web.json_response({"items": found})


async def list_orders(api: AggregatorApi, request: web.Request, grant: Grant) -> web.Response:
    """This aggregator's orders, newest first (`skip`, `limit` ≤ 50)."""
    return await _list(api, request, grant, "order")


async def list_series(api: AggregatorApi, request: web.Request, grant: Grant) -> web.Response:
    """This aggregator's series, newest first (`skip`, `limit` ≤ 50)."""
    return await _list(api, request, grant, "series")


async def post_series(api: AggregatorApi, request: web.Request, grant: Grant) -> web.Response:
    """Send a series of max power, price or carbon intensity: 201 with its status (200 for a repeat)."""
    body = await _body(request)
    if SCOPE not in grant.scopes and body.get("item") != "price":  # a supplier publishes tariffs, nothing else
        return problem(403, "item: a supplier client sends price series only", field="item")
    scope = await api.scope(grant)
    series = parse_series(body, api.held(scope))
    _check_window(api, series.plans, "start", scope)
    outcome = await _submit(api, scope, "series", series.series_id, body, series.plans)
    return await _answer(api, outcome, scope, created=True)

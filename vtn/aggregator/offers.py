"""Flexibility offers for the aggregator API: the facts the VTN holds on each site (sites file device,
subscribed power, last quarter hour's metering, the storage's last reported state of charge, registration,
availability optOuts) read in one store transaction through the client's permission filter, and `GET /offers`
(the pure rules are `mapping.flexready.offers`)."""

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime

from aiohttp import web

from mapping.flexready.clock import utc_text, window
from mapping.flexready.offers import Offer, SiteFacts, group_offer, offer_json, site_offer
from mapping.flexready.scope import Scope
from mapping.flexready.sites import Portfolio, addressed
from mapping.grid import QUARTER, floor_slot
from vtn.aggregator import telemetry
from vtn.aggregator.common import AggregatorApi
from vtn.auth.tokens import Grant
from vtn.store import Tx
from vtn.store import aggregator_repository as agg_repo
from vtn.store import repository as repo


def site_facts(
    session: Tx,
    scope: Scope,
    sites: tuple[str, ...],
    portfolio: Portfolio,
    devices: Mapping[str, SiteFacts],
    market_context: str,
    now: datetime,
) -> list[SiteFacts]:
    """The facts of each of `sites` (held by `scope`'s client) for its offer."""
    found = []
    last = floor_slot(now) - QUARTER
    for site in sites:
        base = devices.get(site, SiteFacts(site=site, max_kw=0.0))
        ven = repo.find_ven_by_name(session, site)
        registered = ven is not None and ven.registered
        metered = telemetry.site_telemetry(session, scope, site, last, 1)["intervals"][0]["mean_kw"] if registered else None
        soc = telemetry.last_soc(session, scope, site, ven.ven_id, now) if ven is not None and registered else None
        unavailable = agg_repo.unavailable_windows(session, ven.ven_id, market_context) if ven is not None else []
        found.append(
            replace(
                base,
                site=site,
                max_kw=portfolio.max_kw(site),
                current_kw=metered,
                soc_percent=soc,
                registered=registered,
                unavailable=tuple(unavailable),
            )
        )
    return found


async def offers_for(
    api: AggregatorApi, scope: Scope, portfolio: Portfolio, sites: tuple[str, ...], start: datetime, end: datetime
) -> list[Offer]:
    """Each site's offer over [start, end)."""
    args = (scope, sites, portfolio, api.devices, api.market_context, api.ctx.now())
    facts = await api.ctx.store.call(site_facts, *args)
    return [site_offer(f, start, end) for f in facts]


async def get_offers(api: AggregatorApi, request: web.Request, grant: Grant) -> web.Response:
    """How much a site or a group of the client's portfolio can go down and up over [start, end)."""
    scope = await api.scope(grant)
    portfolio = api.held(scope)
    group, sites = addressed({k: request.query.get(k) for k in ("site", "group")}, portfolio)
    start, slots = window(request.query.get("start"), request.query.get("end"))
    end = start + slots * QUARTER
    offers = await offers_for(api, scope, portfolio, sites, start, end)
    body = {
        "start": utc_text(start),
        "end": utc_text(end),
        **({"group": group} if group is not None else {}),
        "sites": [offer_json(o) for o in offers],
        "total": offer_json(group_offer(offers)),
    }
    return web.json_response(body)

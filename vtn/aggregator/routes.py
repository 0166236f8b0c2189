"""Mounts the aggregator API at /flexready/v1: token endpoint, OpenAPI document, sites, orders, series.

Every route but the token endpoint and the OpenAPI document needs a bearer token with the
`flexready` scope, issued to an aggregator client (`cariflex aggregator client add NAME`); an
aggregator sees and changes only its own orders and series, and addresses only the sites of its
portfolio. Its webhook subscriptions are notified by a background loop (`notices.OrderNotifier`).
"""

import json
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web

from mapping.settings import ConfigError
from vtn.aggregator import handlers, notices, offers
from vtn.aggregator.common import AUDIENCE, BASE, SCOPE, SUPPLIER_SCOPE, AggregatorApi, endpoint
from vtn.auth.http import problem, token_endpoint
from vtn.auth.throttle import client_address
from vtn.auth.tokens import TokenIssuer
from vtn.context import VtnContext
from vtn.domain import ClientRecord
from vtn.lifecycle import Lifecycle
from vtn.site_registry import contracted_kw_by_ven, devices_by_ven
from vtn.store import dso_repository as dso_repo
from vtn.store import repository as repo

OPENAPI = Path(__file__).resolve().parent / "openapi.json"
#: the app's order notifier (tests reach it here)
NOTIFIER_KEY = web.AppKey("aggregator_notifier", notices.OrderNotifier)


def _token(api: AggregatorApi) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def find(client_id: str) -> ClientRecord | None:
        client = await api.ctx.store.call(dso_repo.find_client, client_id)
        scopes = client.scopes & {SCOPE, SUPPLIER_SCOPE} if client is not None else frozenset()
        if client is None or not scopes:
            return None  # a DSO client gets no aggregator token
        return ClientRecord(client.client_id, client.secret_hash, frozenset(scopes), client.disabled)

    async def handle(request: web.Request) -> web.Response:
        address = client_address(request, api.ctx.config.proxy)
        return await token_endpoint(
            request, find, api.issuer, api.ctx.now(), throttle=api.ctx.token_failures, client_address=address
        )

    return handle


async def _no_route(request: web.Request) -> web.Response:
    return problem(404, f"path: no {request.method} {request.path} in this API (GET {BASE}/openapi.json describes it)")


async def _openapi(_request: web.Request) -> web.Response:
    return web.json_response(json.loads(OPENAPI.read_text()))


def setup(app: web.Application, ctx: VtnContext, lifecycle: Lifecycle) -> None:
    """Mount the API when `[aggregator] program` is configured (at start-up, before serving)."""
    config = ctx.config.aggregator
    if config.program_id is None:
        return
    programs = {program_id: market_context for program_id, market_context, _name in ctx.store.call_sync(repo.list_programs)}
    if config.program_id not in programs:
        raise ConfigError(f"aggregator.program: no program {config.program_id!r} ([[programs]] lists them)")
    key = ctx.store.call_sync(dso_repo.signing_key, ctx.now())
    groups = {**ctx.config.groups, **ctx.config.dso.zones}
    api = AggregatorApi(
        ctx=ctx,
        lifecycle=lifecycle,
        issuer=TokenIssuer(key=key, audience=AUDIENCE, lifetime=config.token_lifetime),
        portfolio=config.portfolio(groups, contracted_kw_by_ven(ctx.config.ui.sites_file)),
        market_context=programs[config.program_id],
        devices=devices_by_ven(ctx.config.ui.sites_file),
    )
    r = app.router
    r.add_post(f"{BASE}/auth/token", _token(api))
    r.add_get(f"{BASE}/openapi.json", _openapi)
    r.add_get(f"{BASE}/sites", endpoint(api, handlers.get_sites, SCOPE, SUPPLIER_SCOPE))
    r.add_get(f"{BASE}/sites/{{site}}/measurements", endpoint(api, handlers.get_measurements, SCOPE, SUPPLIER_SCOPE))
    r.add_get(f"{BASE}/offers", endpoint(api, offers.get_offers))
    r.add_post(f"{BASE}/orders", endpoint(api, handlers.post_order))
    r.add_get(f"{BASE}/orders", endpoint(api, handlers.list_orders))
    r.add_get(f"{BASE}/orders/{{request_id}}", endpoint(api, handlers.get_order))
    r.add_put(f"{BASE}/orders/{{request_id}}", endpoint(api, handlers.put_order))
    r.add_delete(f"{BASE}/orders/{{request_id}}", endpoint(api, handlers.delete_order))
    r.add_post(f"{BASE}/series", endpoint(api, handlers.post_series, SCOPE, SUPPLIER_SCOPE))
    r.add_get(f"{BASE}/series", endpoint(api, handlers.list_series, SCOPE, SUPPLIER_SCOPE))
    r.add_get(f"{BASE}/series/{{request_id}}", endpoint(api, handlers.get_series, SCOPE, SUPPLIER_SCOPE))
    r.add_delete(f"{BASE}/series/{{request_id}}", endpoint(api, handlers.delete_series, SCOPE, SUPPLIER_SCOPE))
    r.add_post(f"{BASE}/subscriptions", endpoint(api, notices.post_subscription))
    r.add_get(f"{BASE}/subscriptions", endpoint(api, notices.list_subscriptions))
    r.add_get(f"{BASE}/subscriptions/{{subscription_id}}", endpoint(api, notices.get_subscription))
    r.add_delete(f"{BASE}/subscriptions/{{subscription_id}}", endpoint(api, notices.delete_subscription))
    notifier = notices.OrderNotifier(api)
    app[NOTIFIER_KEY] = notifier
    app.on_startup.append(notifier.start)
    app.on_cleanup.append(notifier.stop)  # before the store closes (registered earlier), as the DSO API's
    r.add_route("*", f"{BASE}/{{tail:.*}}", _no_route)  # last: a JSON problem, not aiohttp's text page

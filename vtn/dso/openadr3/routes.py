"""Mounts the OpenADR 3 API (3.0.1 and 3.1.0) on the VTN's web application."""

from collections.abc import Awaitable, Callable

from aiohttp import web

from mapping.openadr3.wire import VERSIONS
from vtn.auth.http import token_endpoint
from vtn.auth.revocation import DisabledClients
from vtn.auth.throttle import client_address
from vtn.auth.tokens import TokenIssuer
from vtn.context import VtnContext
from vtn.domain import ClientRecord
from vtn.dso import signals as dso_signals
from vtn.dso.openadr3 import events, notifiers, programs, reports, subscriptions, vens
from vtn.dso.openadr3.common import Api, endpoint
from vtn.dso.openadr3.mqtt_notify import MqttPublisher
from vtn.dso.openadr3.notify import Notifier
from vtn.lifecycle import Lifecycle
from vtn.site_registry import capabilities_by_ven
from vtn.store import dso_repository as dso_repo
from vtn.store import repository as repo

BASE = "/openadr3"
AUDIENCE = "cariflex-dso"
READ = ("read_all", "read_targets", "read_ven_objects")


def prepare_store(ctx: VtnContext) -> TokenIssuer:
    """Zones as groups, an OpenADR 3 view of every program, the signing key; refreshes the cache's memberships."""
    now = ctx.now()
    for zone, ven_names in ctx.config.dso.zones.items():
        ctx.store.call_sync(repo.set_group_members, zone, ven_names, now)
    ctx.store.call_sync(dso_repo.sync_programs, now)
    key = ctx.store.call_sync(dso_repo.signing_key, now)
    ctx.live.groups_by_name, ctx.live.resources_by_name = ctx.store.call_sync(repo.load_memberships)
    return TokenIssuer(key=key, audience=AUDIENCE, lifetime=ctx.config.dso.token_lifetime)


def _token(api: Api) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def find(client_id: str) -> ClientRecord | None:
        return await api.ctx.store.call(dso_repo.find_client, client_id)

    async def handle(request: web.Request) -> web.Response:
        # 3.0.1 documents 400 (authError) for a bad credential; 3.1 documents 401
        status = 400 if api.version == "3.0.1" else 401
        address = client_address(request, api.ctx.config.proxy)
        return await token_endpoint(
            request, find, api.issuer, api.ctx.now(), status, throttle=api.ctx.token_failures, client_address=address
        )

    return handle


def _auth_server(api: Api) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handle(request: web.Request) -> web.Response:
        return web.json_response({"tokenURL": f"{request.scheme}://{request.host}{api.base}/auth/token"})

    return handle


def add_version(app: web.Application, api: Api) -> None:
    """Every route of one API version under `api.base`."""
    r, b = app.router, api.base
    r.add_post(f"{b}/auth/token", _token(api))
    r.add_get(f"{b}/auth/server", _auth_server(api))
    r.add_get(f"{b}/programs", endpoint(api, programs.search_programs, *READ))
    r.add_post(f"{b}/programs", endpoint(api, programs.create_program, "write_programs"))
    r.add_get(f"{b}/programs/{{programID}}", endpoint(api, programs.read_program, *READ))
    r.add_put(f"{b}/programs/{{programID}}", endpoint(api, programs.update_program, "write_programs"))
    r.add_delete(f"{b}/programs/{{programID}}", endpoint(api, programs.delete_program, "write_programs"))
    r.add_get(f"{b}/events", endpoint(api, events.search_events, *READ))
    r.add_post(f"{b}/events", endpoint(api, events.create_event, "write_events"))
    r.add_get(f"{b}/events/{{eventID}}", endpoint(api, events.read_event, *READ))
    r.add_put(f"{b}/events/{{eventID}}", endpoint(api, events.update_event, "write_events"))
    r.add_delete(f"{b}/events/{{eventID}}", endpoint(api, events.delete_event, "write_events"))
    r.add_get(f"{b}/reports", endpoint(api, reports.search_reports, *READ))
    r.add_get(f"{b}/reports/{{reportID}}", endpoint(api, reports.read_report, *READ))
    for path in (f"{b}/reports", f"{b}/reports/{{reportID}}"):
        for method in ("POST", "PUT", "DELETE"):
            r.add_route(method, path, endpoint(api, reports.refuse_write, *READ, "write_reports"))
    r.add_get(f"{b}/vens", endpoint(api, vens.search_vens, *READ))
    r.add_get(f"{b}/vens/{{venID}}", endpoint(api, vens.read_ven, *READ))
    resources = f"{b}/vens/{{venID}}/resources" if api.version == "3.0.1" else f"{b}/resources"
    r.add_get(resources, endpoint(api, vens.search_resources, *READ))
    r.add_get(f"{resources}/{{resourceID}}", endpoint(api, vens.read_resource, *READ))
    for path in (f"{b}/vens", f"{b}/vens/{{venID}}", resources, f"{resources}/{{resourceID}}"):
        for method in ("POST", "PUT", "DELETE"):
            r.add_route(method, path, endpoint(api, vens.refuse_write, *READ, "write_vens"))
    r.add_get(f"{b}/subscriptions", endpoint(api, subscriptions.search_subscriptions, *READ))
    r.add_post(f"{b}/subscriptions", endpoint(api, subscriptions.create_subscription, "write_subscriptions"))
    r.add_get(f"{b}/subscriptions/{{subscriptionID}}", endpoint(api, subscriptions.read_subscription, *READ))
    r.add_put(f"{b}/subscriptions/{{subscriptionID}}", endpoint(api, subscriptions.update_subscription, "write_subscriptions"))
    r.add_delete(f"{b}/subscriptions/{{subscriptionID}}", endpoint(api, subscriptions.delete_subscription, "write_subscriptions"))
    if api.version != "3.0.1":  # 3.0.1 has no notifiers
        notifiers.add_routes(app, api, *READ)


def add_signals(app: web.Application, api: Api) -> None:
    """The French adapters (POST /dso/signals/<kind>) and their token endpoint; the sites file is read once,
    here, for the sites' shares of a zone's kW."""
    handler = dso_signals.post_signal(capabilities_by_ven(api.ctx.config.ui.sites_file))
    app.router.add_post(f"{api.base}/auth/token", _token(api))
    app.router.add_post(f"{api.base}/signals/{{kind}}", endpoint(api, handler, "write_events"))


#: the app's webhook notifier (operators' tools and tests reach it here)
NOTIFIER_KEY = web.AppKey("openadr3_notifier", Notifier)


def setup(app: web.Application, ctx: VtnContext, lifecycle: Lifecycle) -> None:
    """Prepare the store and mount both versions and the French adapters (at start-up, before serving)."""
    issuer = prepare_store(ctx)
    mqtt = MqttPublisher(ctx.config.dso.mqtt) if ctx.config.dso.mqtt.host is not None else None
    notifier = Notifier(ctx.store, mqtt=mqtt)
    app[NOTIFIER_KEY] = notifier
    app.on_cleanup.append(lambda _app: notifier.close())  # before the store closes (registered earlier)
    if mqtt is not None:

        async def start_mqtt(_app: web.Application) -> None:
            mqtt.start()

        app.on_startup.append(start_mqtt)
        app.on_cleanup.append(lambda _app: mqtt.close())

    async def load_disabled() -> frozenset[str]:
        return await ctx.store.call(dso_repo.disabled_clients)

    disabled = DisabledClients(load_disabled, ctx.now, ctx.config.dso.client_recheck)
    for version in VERSIONS:
        add_version(app, Api(ctx, lifecycle, issuer, version, f"{BASE}/{version}", notifier, disabled))
    add_signals(app, Api(ctx, lifecycle, issuer, "dso", "/dso", notifier, disabled))

"""Assembling and running a VTN process."""

import asyncio
import logging
import signal
from dataclasses import dataclass

from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from certs.tls import server_context
from certs.xmlsig import Signer
from vtn import curtailment, openadr_http
from vtn.aggregator import routes as aggregator_routes
from vtn.config import VtnConfig
from vtn.context import VtnContext, new_id
from vtn.lifecycle import Lifecycle
from vtn.openadr3 import routes as openadr3_routes
from vtn.push.pusher import Pusher
from vtn.store import repository as repo
from vtn.store.database import upgrade
from vtn.store.worker import StoreWorker
from vtn.sync import StoreSync
from vtn.ui.web import add_ui

log = logging.getLogger("cariflex.vtn")

CTX_KEY = web.AppKey("ctx", VtnContext)


@dataclass
class VtnProcess:
    """A configured VTN: its context, web application and background jobs."""

    ctx: VtnContext
    app: web.Application
    scheduler: AsyncIOScheduler
    lifecycle: Lifecycle
    sync: StoreSync
    #: pushes to VENs registered in push mode; started with the process unless [push] enabled = false
    pusher: Pusher


def build(config: VtnConfig) -> VtnProcess:
    """Migrate the store, load it, and wire the web application (nothing is started yet)."""
    upgrade(config.db_url)
    store = StoreWorker(config.db_url, origin=new_id("vtn"))
    signer = Signer.from_files(*config.tls.chains[0]) if config.tls else None
    ctx = VtnContext(config=config, store=store, signer=signer)
    store.call_sync(
        repo.sync_configuration,
        [(p.program_id, p.market_context, p.name) for p in config.programs],
        dict(config.groups),
        dict(config.resources),
        ctx.now(),
    )
    scheduler = AsyncIOScheduler(timezone="UTC")
    lifecycle = Lifecycle(ctx, scheduler)
    sync = StoreSync(ctx, lifecycle)
    sync.load_all()
    app = web.Application(client_max_size=config.max_body_bytes)
    app[CTX_KEY] = ctx
    openadr_http.add_routes(app, ctx)
    openadr3_routes.setup(app, ctx, lifecycle)
    aggregator_routes.setup(app, ctx, lifecycle)
    app.router.add_get("/healthz", _healthz)
    if config.ui.enabled:
        add_ui(app, ctx)
    process = VtnProcess(ctx=ctx, app=app, scheduler=scheduler, lifecycle=lifecycle, sync=sync, pusher=Pusher(ctx, config.push))
    app.on_startup.append(lambda _app: _start(process))
    app.on_cleanup.append(lambda _app: _stop(process))
    return process


async def _healthz(_request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def _start(process: VtnProcess) -> None:
    scheduler, config = process.scheduler, process.ctx.config
    scheduler.add_job(
        process.sync.refresh,
        "interval",
        seconds=config.refresh_interval.total_seconds(),
        id="refresh",
        max_instances=1,
        coalesce=True,
    )
    scheduler.add_job(process.sync.flush_deliveries, "interval", seconds=2, id="flush-deliveries", max_instances=1, coalesce=True)
    scheduler.add_job(process.sync.flush_seen, "interval", seconds=30, id="flush-seen", max_instances=1, coalesce=True)
    scheduler.add_job(process.lifecycle.reconcile, "interval", seconds=30, id="reconcile", max_instances=1, coalesce=True)
    scheduler.add_job(
        curtailment.request_due, "interval", args=[process.ctx], seconds=5, id="curtailment", max_instances=1, coalesce=True
    )
    scheduler.start()
    await process.lifecycle.reconcile()
    if config.push.enabled:
        await process.pusher.start()


async def _stop(process: VtnProcess) -> None:
    await process.pusher.stop()
    process.scheduler.shutdown(wait=False)
    await process.sync.flush()
    process.ctx.store.close()


async def start_site(process: VtnProcess, config: VtnConfig) -> tuple[web.AppRunner, int]:
    """Listen on config.host:port (TLS when configured); returns the runner and the port bound."""
    # a connection that has not completed a request within body_timeout is closed (slow headers)
    runner = web.AppRunner(process.app, access_log=None, keepalive_timeout=config.body_timeout.total_seconds())
    await runner.setup()
    ssl_context = server_context(config.tls) if config.tls else None
    site = web.TCPSite(runner, config.host, config.port, backlog=1024, ssl_context=ssl_context)
    await site.start()
    sockets = getattr(site._server, "sockets", None) or []
    return runner, sockets[0].getsockname()[1] if sockets else config.port


async def serve(config: VtnConfig) -> None:
    """Run the VTN until SIGINT/SIGTERM; prints the address it listens on."""
    process = build(config)
    runner, port = await start_site(process, config)
    scheme = "https" if config.tls else "http"
    print(f"Cariflex VTN {config.vtn_id!r} listening on {scheme}://{config.host}:{port}{openadr_http.BASE_PATH}/", flush=True)
    if config.tls is None:
        log.warning("plain HTTP: for development only; production runs with [tls] (docs/security.md)")
    log.info("store: %s", config.db_url.split("@")[-1])
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    log.info("stopping")
    await runner.cleanup()

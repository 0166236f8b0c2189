"""Assembling and running a VTN process."""

import asyncio
import logging
import math
import signal
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from prometheus_client import CollectorRegistry

from certs.tls import server_context
from certs.xmlsig import Signer
from observability.tally import Tally
from vtn.aggregator import routes as aggregator_routes
from vtn.banner import listening_banner
from vtn.cache.sync import StoreSync
from vtn.cluster.leadership import LeaderJob, Leadership
from vtn.cluster.listen import ChangeListener, ChangeProbe
from vtn.config import VtnConfig
from vtn.context import VtnContext, new_id
from vtn.curtailment import requests as curtailment
from vtn.domain import SEEN_FLUSH_INTERVAL
from vtn.dso.openadr3 import routes as openadr3_routes
from vtn.lifecycle import Lifecycle
from vtn.oadr import http as openadr_http
from vtn.oadr import report_resend
from vtn.oadr.push.pusher import Pusher
from vtn.oadr.services import registration
from vtn.ops import incidents, metrics
from vtn.ops.http import add_ops
from vtn.store import database
from vtn.store import repository as repo
from vtn.store.worker import StoreWorker
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
    leadership: Leadership
    #: pushes to VENs registered in push mode; runs in the leader unless [push] enabled = false
    pusher: Pusher
    #: this process's metrics (GET /metrics)
    registry: CollectorRegistry
    #: None on SQLite or with [store] listen = false
    listener: ChangeListener | None = None
    #: None on SQLite (one process: nothing to fence against)
    probe: ChangeProbe | None = None


def build(config: VtnConfig) -> VtnProcess:
    """Migrate the store, load it, and wire the web application (nothing is started yet)."""
    database.upgrade(config.db_url)
    tally = Tally()
    store = StoreWorker(
        config.db_url,
        origin=new_id("vtn"),
        timed=lambda call, seconds: tally.observe(metrics.STORE_DURATION, (call,), seconds),
        timeouts=config.store_timeouts,
    )
    own = config.tls or config.push.tls  # behind a TLS proxy, the push certificate is the VTN's own
    signer = Signer.from_files(*own.chains[0]) if own else None
    ctx = VtnContext(config=config, store=store, signer=signer, tally=tally)
    store.call_sync(
        repo.sync_configuration,
        [(p.program_id, p.market_context, p.name) for p in config.programs],
        dict(config.groups),
        dict(config.resources),
        ctx.now(),
    )
    scheduler = AsyncIOScheduler(timezone="UTC")
    leadership = Leadership(scheduler, config.db_url, config.leader_retry)
    lifecycle = Lifecycle(ctx, scheduler, leads=lambda: leadership.is_leader)
    sync = StoreSync(ctx, lifecycle)
    sync.load_all()
    registration.warn_if_push_is_off(ctx)
    shared = database.is_postgresql(config.db_url)  # several processes may serve the same VENs
    probe = ChangeProbe(config.db_url) if shared else None
    if probe is not None:
        ctx.catch_up = sync.refresh
        sync.probe = probe.newest
    listener = ChangeListener(config.db_url, sync.refresh, config.leader_retry) if shared and config.listen_for_changes else None
    app = web.Application(client_max_size=config.max_body_bytes)
    app[CTX_KEY] = ctx
    openadr_http.add_routes(app, ctx)
    openadr3_routes.setup(app, ctx, lifecycle)
    aggregator_routes.setup(app, ctx, lifecycle)
    registry = add_ops(app, ctx, scheduler, lambda: leadership.is_leader, lambda: listener is not None and listener.listening)
    # inside the metrics middleware (a 503 is counted as one), outside the UI's login
    app.middlewares.append(incidents.answer_failures(log, math.ceil(config.store_timeouts.connect.total_seconds())))
    if config.ui.enabled:
        add_ui(app, ctx)
    pusher = Pusher(ctx, config.push)
    _add_leader_jobs(leadership, ctx, lifecycle, sync, pusher)
    process = VtnProcess(
        ctx=ctx,
        app=app,
        scheduler=scheduler,
        lifecycle=lifecycle,
        sync=sync,
        leadership=leadership,
        pusher=pusher,
        listener=listener,
        probe=probe,
        registry=registry,
    )
    app.on_startup.append(lambda _app: _start(process))
    app.on_cleanup.append(lambda _app: _stop(process))
    return process


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
    scheduler.add_job(
        process.sync.flush_seen,
        "interval",
        seconds=SEEN_FLUSH_INTERVAL.total_seconds(),
        id="flush-seen",
        max_instances=1,
        coalesce=True,
    )
    scheduler.start()
    await process.leadership.start()  # SQLite: leads at once (and reconciles); PostgreSQL: competes in the background
    if process.listener is not None:
        await process.listener.start()


def _add_leader_jobs(leadership: Leadership, ctx: VtnContext, lifecycle: Lifecycle, sync: StoreSync, pusher: Pusher) -> None:
    """What exactly one process runs: status reconciles, the curtailment requests and pushing to push-mode
    VENs (several pushers would push every message once each). A new leader first catches up with the
    store, then reconciles (what the previous leader left undone)."""
    leadership.add_job(LeaderJob("reconcile", lifecycle.reconcile, timedelta(seconds=30)))
    # a partial, not a lambda: APScheduler awaits only what it recognises as a coroutine function
    leadership.add_job(LeaderJob("curtailment", partial(curtailment.request_due, ctx), timedelta(seconds=5)))
    leadership.add_job(LeaderJob("report-resend", partial(report_resend.resend_unanswered, ctx), timedelta(seconds=5)))
    leadership.on_gain(sync.refresh)
    leadership.on_gain(lifecycle.reconcile)
    if ctx.config.push.enabled:
        leadership.on_gain(pusher.start)
        leadership.on_lose(pusher.stop)


async def _stop(process: VtnProcess) -> None:
    process.scheduler.shutdown(wait=False)  # first: no refresh job may reopen what is closed below
    if process.listener is not None:
        await process.listener.stop()
    await process.leadership.stop()  # frees the lock: another process takes over at its next try
    if process.probe is not None:
        await process.probe.close()
    await process.ctx.ingest.drain()  # reports being stored are answered before the store closes
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
    # the handlers go in before the banner: whoever reads the banner may stop the VTN at once, and a
    # SIGTERM that met the default handler would kill it without closing the store
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    process = build(config)
    runner, port = await start_site(process, config)
    scheme = "https" if config.tls else "http"
    print(listening_banner(config.vtn_id, f"{scheme}://{config.host}:{port}"), flush=True)
    if config.tls is None:
        log.warning("plain HTTP: for development only; production runs with [tls] (docs/security.md)")
    log.info("store: %s", database.shown_url(config.db_url))
    await stop.wait()
    log.info("stopping")
    await runner.cleanup()

"""The VTN's operations surface: /metrics, /healthz, /readyz and the HTTP request metrics middleware."""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from time import perf_counter

from aiohttp import web
from alembic.script import ScriptDirectory
from apscheduler.schedulers.base import BaseScheduler
from prometheus_client import CollectorRegistry

from observability.http import SingleFlight, add_ops_routes
from observability.tally import Tally
from vtn.config import VtnConfig
from vtn.context import VtnContext
from vtn.domain import SEEN_FLUSH_INTERVAL
from vtn.ops import metrics
from vtn.store import ops_queries
from vtn.store.database import alembic_config

log = logging.getLogger("cariflex.vtn.ops")

#: how long /readyz and /metrics wait for the store before calling it unreachable
STORE_TIMEOUT_S = 2.0
#: how long a /readyz answer is reused (a load balancer probes every few seconds; a flood gets this answer)
READINESS_CACHE_S = 1.0

#: the status counted for a request whose handling was cancelled (nginx's "client closed request")
CANCELLED_STATUS = 499

#: poll intervals missed before a VEN counts as stale (cariflex_vens_stale)
STALE_POLLS = 3

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def request_metrics(tally: Tally) -> Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]:
    """An aiohttp middleware counting requests by route class and status, and timing them."""
    classes: dict[object, str] = {}  # per application: resource → route class

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        start = perf_counter()
        status = 500
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as exc:
            status = exc.status
            raise
        except asyncio.CancelledError:
            # the client went away or the server is stopping: not a failure of ours, so not a 500 (which
            # dashboards alert on); 499 is nginx's "client closed request"
            status = CANCELLED_STATUS
            raise
        finally:
            resource = request.match_info.route.resource
            route = classes.get(resource)
            if route is None:
                route = classes[resource] = metrics.route_class(resource.canonical if resource is not None else None)
            tally.inc(metrics.HTTP_REQUESTS, (route, str(status)))
            tally.observe(metrics.HTTP_DURATION, (route,), perf_counter() - start)

    return middleware


def head_revision(db_url: str) -> str | None:
    """The newest migration this code knows."""
    return ScriptDirectory.from_config(alembic_config(db_url)).get_current_head()


class Readiness:
    """Why this VTN should not get traffic: store unreachable, schema not at head, scheduler stopped.

    /readyz is public, and the store has a single thread that also carries registrations, acks and report
    ingest; a timeout stops waiting for a store call but does not take it off that thread's queue. So at most
    one readiness query is ever queued: while it is still pending (a stalled database), later checks wait for
    it again instead of queueing another; and the check as a whole is single-flight with its answer reused for
    READINESS_CACHE_S (see `checker`)."""

    def __init__(self, ctx: VtnContext, scheduler: BaseScheduler, head: str | None) -> None:
        self.ctx = ctx
        self.scheduler = scheduler
        self.head = head
        # one schema query at a time; a timeout leaves it to finish for the next check
        self._revision = SingleFlight(lambda: ctx.store.call(ops_queries.schema_revision))

    def checker(self) -> SingleFlight[list[str]]:
        """The check as /readyz runs it: one at a time, its answer reused for READINESS_CACHE_S."""
        return SingleFlight(self.problems, max_age=READINESS_CACHE_S)

    async def problems(self) -> list[str]:
        """The reasons this process is not ready (empty: ready)."""
        problems = []
        try:
            async with asyncio.timeout(STORE_TIMEOUT_S):
                revision = await self._revision()
            if revision != self.head:
                problems.append(f"store schema at revision {revision}, this code needs {self.head}: run the migrations")
        except TimeoutError:
            problems.append(f"store did not answer within {STORE_TIMEOUT_S:g} s")
        except Exception as exc:  # any driver error means the same to a load balancer: not ready
            # /readyz is public: the driver's message (host, database, user) goes to the log only
            log.warning("readiness: store unreachable: %s", exc)
            problems.append(f"store unreachable: {exc.__class__.__name__} (details in the VTN's log)")
        if not self.scheduler.running:
            problems.append("lifecycle scheduler is not running")
        return problems


def stale_after(config: VtnConfig) -> timedelta:
    """How long a registered VEN may go without a stored last-seen time before it counts as stale: 3 poll
    intervals, plus the flush period, since a VEN polling normally has a stored time up to that much old."""
    return STALE_POLLS * config.poll_interval + SEEN_FLUSH_INTERVAL


async def refresh_store_view(ctx: VtnContext, view: metrics.StoreView) -> None:
    """Read the store-wide gauges before a scrape; on failure the scrape still answers, with store_up 0."""
    try:
        async with asyncio.timeout(STORE_TIMEOUT_S):
            view.oldest_seen_age, view.stale_vens = await ctx.store.call(
                ops_queries.seen_summary, ctx.now(), stale_after(ctx.config)
            )
        view.up = True
    except Exception as exc:  # the metrics must still come out when the store is down
        log.warning("metrics: store query failed: %s", exc)
        view.up, view.oldest_seen_age = False, None


def add_ops(
    app: web.Application,
    ctx: VtnContext,
    scheduler: BaseScheduler,
    leads: Callable[[], bool],
    listening: Callable[[], bool] = lambda: False,
) -> CollectorRegistry:
    """Count requests, and serve /metrics, /healthz and /readyz (`leads`: whether this process is the lifecycle
    leader; `listening`: whether its change listener is listening); returns the process's registry."""
    app.middlewares.append(request_metrics(ctx.tally))
    view = metrics.StoreView()
    registry = metrics.vtn_registry(metrics.VtnGauges(ctx.live, ctx.tally, scheduler, view, leads, listening))
    head = head_revision(ctx.config.db_url)
    add_ops_routes(
        app,
        ctx.config.metrics,
        registry,
        Readiness(ctx, scheduler, head).checker(),
        SingleFlight(lambda: refresh_store_view(ctx, view)),  # concurrent scrapes share one store read
    )
    return registry

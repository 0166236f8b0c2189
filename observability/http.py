"""The operations endpoints both the VTN and a VEN process serve: /metrics, /healthz, /readyz.

/metrics needs `Authorization: Bearer <token>` (Prometheus' `authorization` / `bearer_token_file`
scrape settings) unless `[metrics] public = true`; the token is compared in constant time.
/healthz and /readyz are public: they tell nothing but up/ready and why not.
"""

import asyncio
import hmac
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from mapping.settings import ConfigError, Table

#: a readiness check: the list of reasons the process is not ready (empty: ready)
ReadinessCheck = Callable[[], Awaitable[list[str]]]

MIN_TOKEN_CHARS = 16

T = TypeVar("T")


class SingleFlight(Generic[T]):
    """Runs `fn` at most once at a time: callers arriving while it runs share that run's result, and callers
    within `max_age` seconds of its end get the same result without a new run. For public endpoints whose
    check costs I/O (/readyz): a flood of requests costs one check per `max_age`, not one per request."""

    def __init__(self, fn: Callable[[], Awaitable[T]], max_age: float = 0.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._fn = fn
        self._max_age = max_age
        self._clock = clock
        self._running: asyncio.Future[T] | None = None
        self._last: tuple[float, T] | None = None  # (when it ended, result)

    async def __call__(self) -> T:
        """The result of the run in progress, of one that ended less than `max_age` ago, or of a new run."""
        if self._last is not None and self._clock() - self._last[0] < self._max_age:
            return self._last[1]
        if self._running is None:
            self._running = asyncio.ensure_future(self._run())
            # a run whose callers all went away still ends (shielded below): its failure must not go unretrieved
            self._running.add_done_callback(lambda done: done.cancelled() or done.exception())
        # shielded: one caller giving up (client gone) must not cancel the run the others wait for
        return await asyncio.shield(self._running)

    async def _run(self) -> T:
        try:
            result = await self._fn()
            self._last = (self._clock(), result)
            return result
        finally:
            self._running = None


@dataclass(frozen=True)
class MetricsSettings:
    """`[metrics]`: who may scrape, and (VEN only) where the operations listener binds."""

    #: true: /metrics answers anyone (e.g. only reachable on a private scrape network)
    public: bool = False
    #: the bearer token scrapers must present (`env:NAME` in the file); None with public = false: /metrics refuses all
    token: str | None = None
    host: str = "127.0.0.1"
    #: the VEN's listener port (0: a free port); None: no listener (VEN only; the VTN serves /metrics on its own port)
    port: int | None = None


def parse_metrics(table: Table, with_listener: bool) -> MetricsSettings:
    """Validate `[metrics]` (`with_listener`: the VEN's `host`/`port` keys are allowed)."""
    known = {"public", "token"} | ({"host", "port", "enabled"} if with_listener else set())
    table.reject_unknown(known)
    token = table.string("token") if "token" in table.data else None
    if token is not None and len(token) < MIN_TOKEN_CHARS:
        raise ConfigError(f"{table.path}.token: at least {MIN_TOKEN_CHARS} characters (e.g. `openssl rand -hex 32`)")
    port: int | None = None
    if with_listener and table.boolean("enabled", False):
        port = table.integer("port", 9464, 0, 65535)
    return MetricsSettings(
        public=table.boolean("public", False),
        token=token,
        host=table.string("host", "127.0.0.1") if with_listener else "127.0.0.1",
        port=port,
    )


def refusal(settings: MetricsSettings, authorization: str | None) -> str | None:
    """Why a scrape with this Authorization header is refused (None: allowed)."""
    if settings.public:
        return None
    if settings.token is None:
        return "metrics are not public and no [metrics] token is configured: set token (or public = true)"
    if not authorization:
        return "missing Authorization header: send 'Authorization: Bearer <token>'"
    scheme, _, given = authorization.partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        return "Authorization must be 'Bearer <token>'"
    if not hmac.compare_digest(given.strip().encode(), settings.token.encode()):
        return "bearer token does not match"
    return None


def metrics_handler(
    settings: MetricsSettings, registry: CollectorRegistry, before: Callable[[], Awaitable[None]] | None = None
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """GET /metrics: the registry in Prometheus text format, after `before()` refreshed what needs I/O."""

    async def handle(request: web.Request) -> web.Response:
        why = refusal(settings, request.headers.get("Authorization"))
        if why is not None:
            return web.Response(status=401, text=why + "\n", headers={"WWW-Authenticate": 'Bearer realm="cariflex-metrics"'})
        if before is not None:
            await before()
        return web.Response(body=generate_latest(registry), headers={"Content-Type": CONTENT_TYPE_LATEST})

    return handle


async def healthz(_request: web.Request) -> web.Response:
    """GET /healthz: the process is alive and its event loop answers."""
    return web.json_response({"status": "ok"})


def readyz_handler(check: ReadinessCheck) -> Callable[[web.Request], Awaitable[web.Response]]:
    """GET /readyz: 200 when `check` finds nothing wrong, else 503 with the reasons."""

    async def handle(_request: web.Request) -> web.Response:
        problems = await check()
        if problems:
            return web.json_response({"status": "not ready", "reasons": problems}, status=503)
        return web.json_response({"status": "ready"})

    return handle


def add_ops_routes(
    app: web.Application,
    settings: MetricsSettings,
    registry: CollectorRegistry,
    check: ReadinessCheck,
    before_scrape: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """Serve /metrics, /healthz and /readyz on `app`."""
    app.router.add_get("/metrics", metrics_handler(settings, registry, before_scrape))
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz_handler(check))

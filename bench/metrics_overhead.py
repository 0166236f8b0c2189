"""What the metrics add to one oadrPoll, in CPU time: the Tally operations the poll path performs
(message count, poll answer, HTTP request count and latency histogram, two clock reads), timed in a
loop, next to the time one poll takes end to end (from bench/poll_bench.py). Example::

    .venv/bin/python bench/metrics_overhead.py --polls 1000000
"""

import argparse
import asyncio
import time
from time import perf_counter

from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from observability.tally import Tally
from vtn.ops import metrics
from vtn.ops.http import request_metrics


def per_poll_bookkeeping(tally: Tally, n: int) -> float:
    """Seconds per poll for the metric work the VTN adds to a poll (same calls, same label tuples)."""
    labels = ("OadrPoll", "oadrPoll", "200")
    started = time.perf_counter()
    for _ in range(n):
        start = perf_counter()  # the middleware's two clock reads
        tally.inc(metrics.OADR_MESSAGES, labels)
        tally.inc(metrics.POLL_ANSWERS, ("oadrResponse",))
        tally.inc(metrics.HTTP_REQUESTS, ("openadr2b", "200"))
        tally.observe(metrics.HTTP_DURATION, ("openadr2b",), perf_counter() - start)
    return (time.perf_counter() - started) / n


async def per_request_middleware(n: int) -> tuple[float, float]:
    """Seconds per request to call a trivial handler directly, and through the metrics middleware (the
    request is a constructed aiohttp request routed by the real router: no network, only the wrapper's cost)."""

    async def handler(_request: web.Request) -> web.Response:
        return web.Response(status=200)

    app = web.Application()
    app.router.add_post("/OpenADR2/Simple/2.0b/OadrPoll", handler)
    request = make_mocked_request("POST", "/OpenADR2/Simple/2.0b/OadrPoll", app=app)
    match = await app.router.resolve(request)
    request._match_info = match  # what aiohttp's own request handling sets before the middlewares run
    middleware = request_metrics(Tally())
    started = time.perf_counter()
    for _ in range(n):
        await handler(request)
    direct = (time.perf_counter() - started) / n
    started = time.perf_counter()
    for _ in range(n):
        await middleware(request, handler)
    wrapped = (time.perf_counter() - started) / n
    return direct, wrapped


def main() -> None:
    """Print the per-poll costs in microseconds (best of 5 runs)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--polls", type=int, default=1_000_000)
    args = parser.parse_args()
    best = min(per_poll_bookkeeping(Tally(), args.polls) for _ in range(5))
    print(f"metric bookkeeping per poll: {best * 1e6:.2f} µs (best of 5 × {args.polls:,} polls)")
    runs = [asyncio.run(per_request_middleware(args.polls // 5)) for _ in range(5)]
    direct, wrapped = min(r[0] for r in runs), min(r[1] for r in runs)
    print(f"handler called directly: {direct * 1e6:.2f} µs; through the metrics middleware: {wrapped * 1e6:.2f} µs")
    print(f"middleware adds {(wrapped - direct) * 1e6:.2f} µs per request (its counts and histogram included)")


if __name__ == "__main__":
    main()

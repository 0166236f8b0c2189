"""S2 dispatch: the time from a schedule being ready to its RM's ReceptionStatus, and the CEM's memory per connection.

    .venv/bin/python bench/s2_dispatch.py [--rms 40 1000] [--slots 96]

For each count: one VEN-side CEM (ven.s2.cem.S2Cem, in this process) and that many real s2-python battery RMs
(tests/support/s2_rm.py: S2AsyncConnection, ResourceManagerHandler, WebsocketClientMedium) in a child process, over
loopback WebSockets. Every RM is paired and has described its device before the clock starts; then every device's
schedule (--slots quarter hours, 1 h lookahead: 5 instructions sent at once) is handed to the CEM together, as after
an event that re-plans every site. Latency: from `dispatch` being called for a device to the CEM taking that RM's OK
for its first instruction. Memory: the CEM process's RSS growth from before the first RM connects to all described,
per connection (the WebSocket, its S2 session and its device state).
"""

import argparse
import asyncio
import gc
import multiprocessing
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil

from mapping.grid import floor_slot
from ven.config import S2Settings, SiteConfig
from ven.s2.cem import S2Cem

REPO = Path(__file__).resolve().parent.parent


def token(i: int) -> str:
    return f"bench-rm-token-{i:06d}-0123456789"


def run_rms(url: str, count: int, ready: "multiprocessing.synchronize.Event", stop: "multiprocessing.synchronize.Event") -> None:
    """Child process: `count` RMs, connected and described, until `stop`."""

    async def main() -> None:
        sys.path.insert(0, str(REPO))  # tests.support is not an installed package
        from tests.support.s2_rm import SimulatedRm

        rms = [SimulatedRm(url, token(i)) for i in range(count)]
        for batch in range(0, count, 100):  # the server's listen backlog: connect in batches
            await asyncio.gather(*(rm.start() for rm in rms[batch : batch + 100]))
        await asyncio.gather(*(asyncio.wait_for(rm.received.activated.wait(), 120) for rm in rms))
        ready.set()
        while not stop.is_set():
            await asyncio.sleep(0.2)
        await asyncio.gather(*(rm.stop() for rm in rms), return_exceptions=True)

    asyncio.run(main())


async def measure(count: int, slots: int) -> dict[str, float]:
    sites = [SiteConfig(f"bench-{i:04d}", f"bench-{i:04d}", asset={"kind": "battery"}, s2_token=token(i)) for i in range(count)]
    settings = S2Settings(port=0, lookahead=timedelta(hours=1), max_messages_per_second=1000.0)
    cem = S2Cem(settings, sites)
    gc.collect()
    process = psutil.Process()
    before = process.memory_info().rss
    await cem.start(tick=False)
    started: dict[str, float] = {}
    answered: dict[str, float] = {}
    taken = cem.reception

    async def timed(state, status) -> None:  # noqa: ANN001
        await taken(state, status)
        if state.key.site in started and state.key.site not in answered and state.accepted:
            answered[state.key.site] = time.perf_counter()

    cem.reception = timed  # type: ignore[method-assign]
    ctx = multiprocessing.get_context("spawn")
    ready, stop = ctx.Event(), ctx.Event()
    child = ctx.Process(target=run_rms, args=(f"ws://127.0.0.1:{cem.port}/", count, ready, stop))
    child.start()
    try:
        while not ready.is_set():
            if not child.is_alive():
                raise SystemExit(f"the RMs' process ended (exit code {child.exitcode}) before all RMs were described")
            await asyncio.sleep(0.05)
        while not all(s.ready for s in cem.devices.values()):
            await asyncio.sleep(0.05)
        gc.collect()
        per_connection = (process.memory_info().rss - before) / count
        start = floor_slot(datetime.now(UTC))
        schedule = [((i % 8) - 4) * 1.0 for i in range(slots)]

        async def dispatch(site: str) -> None:
            started[site] = time.perf_counter()
            await cem.dispatch(site, "battery", start, schedule)

        wall = time.perf_counter()
        await asyncio.gather(*(dispatch(s.name) for s in sites))
        while len(answered) < count:
            await asyncio.sleep(0.01)
        wall = time.perf_counter() - wall
        latencies = sorted((answered[s] - started[s]) * 1000 for s in started)
        return {
            "rms": count,
            "p50_ms": statistics.median(latencies),
            "p99_ms": latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))],
            "max_ms": latencies[-1],
            "all_ms": wall * 1000,
            "instructions": cem.counters["sent"],
            "kib_per_connection": per_connection / 1024,
        }
    finally:
        stop.set()
        child.join(60)
        await cem.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rms", type=int, nargs="+", default=[40, 1000])
    parser.add_argument("--slots", type=int, default=96)
    args = parser.parse_args()
    print("RMs    p50 ms   p99 ms   max ms   all answered ms   instructions   RSS KiB/connection")
    for count in args.rms:
        r = asyncio.run(measure(count, args.slots))
        print(
            f"{r['rms']:<6} {r['p50_ms']:7.1f} {r['p99_ms']:8.1f} {r['max_ms']:8.1f} {r['all_ms']:17.1f} "
            f"{r['instructions']:14.0f} {r['kib_per_connection']:20.1f}",
            flush=True,
        )


if __name__ == "__main__":
    main()

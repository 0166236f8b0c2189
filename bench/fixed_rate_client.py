"""Open-loop fixed-rate OpenADR poller (run as its own process).

Sends request ``i`` at ``t0 + i / rate`` whether or not earlier requests have
completed, so a slow server cannot slow the offered load down (no coordinated
omission). Latency is measured from the *scheduled* send time; a request due
while ``--max-in-flight`` requests are outstanding is not sent and is counted
as ``dropped``. Prints one line ``BENCH_RESULT {json}`` at the end::

    python bench/fixed_rate_client.py --url URL --bodies FILE --rate 1000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import resource
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import aiohttp

HEADERS = {"Content-Type": "application/xml"}


@dataclass
class Tally:
    """Outcome counters and latencies (seconds) of one run."""

    latencies: list[float] = field(default_factory=list)
    non_2xx: int = 0
    unexpected: int = 0
    errors: int = 0
    timeouts: int = 0
    dropped: int = 0
    max_lag_s: float = 0.0
    bad_sample: str | None = None


async def _one(
    session: aiohttp.ClientSession,
    url: str,
    body: bytes,
    scheduled: float,
    markers: list[bytes],
    tally: Tally,
) -> None:
    try:
        async with session.post(url, data=body, headers=HEADERS) as resp:
            payload = await resp.read()
            status = resp.status
    except TimeoutError:
        tally.timeouts += 1
        return
    except aiohttp.ClientError:
        tally.errors += 1
        return
    tally.latencies.append(time.perf_counter() - scheduled)
    if not 200 <= status <= 299:
        tally.non_2xx += 1
    elif any(marker not in payload for marker in markers):
        tally.unexpected += 1
        if tally.bad_sample is None:
            tally.bad_sample = " ".join(payload.decode(errors="replace").split())[:600]


async def run(
    url: str,
    bodies: list[bytes],
    rate: float,
    duration: float,
    timeout: float,
    max_in_flight: int,
    markers: list[bytes],
) -> tuple[Tally, int, float]:
    """Offer ``rate`` req/s for ``duration`` s; return (tally, sent, elapsed)."""
    tally = Tally()
    connector = aiohttp.TCPConnector(limit=max_in_flight, force_close=False)
    client_timeout = aiohttp.ClientTimeout(total=timeout)
    tasks: set[asyncio.Task[None]] = set()
    sent = 0
    async with aiohttp.ClientSession(connector=connector, timeout=client_timeout) as session:
        t0 = time.perf_counter()
        total = int(rate * duration)
        while sent < total:
            now = time.perf_counter()
            due = min(total, int((now - t0) * rate) + 1)
            while sent < due:
                scheduled = t0 + sent / rate
                tally.max_lag_s = max(tally.max_lag_s, now - scheduled)
                if len(tasks) >= max_in_flight:
                    tally.dropped += 1
                else:
                    body = bodies[sent % len(bodies)]
                    task = asyncio.create_task(_one(session, url, body, scheduled, markers, tally))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
                sent += 1
            next_at = t0 + sent / rate
            await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
        if tasks:
            await asyncio.wait(set(tasks), timeout=timeout + 1)
        for task in list(tasks):
            task.cancel()
            tally.timeouts += 1
        elapsed = time.perf_counter() - t0
    return tally, sent, elapsed


def _percentile(sorted_values: list[float], pct: float) -> float | None:
    """Nearest-rank percentile of an ascending list."""
    if not sorted_values:
        return None
    rank = math.ceil(pct / 100 * len(sorted_values))
    return sorted_values[min(len(sorted_values), max(1, rank)) - 1]


def summarize(tally: Tally, sent: int, elapsed: float, rate: float) -> dict:
    """Turn a tally into the JSON-able result dict."""
    lat = sorted(tally.latencies)
    ms = {f"p{p}_ms": None if (v := _percentile(lat, p)) is None else v * 1000 for p in (50, 90, 99)}
    counts = asdict(tally)
    counts.pop("latencies")
    return {
        "target_rate": rate,
        "sent": sent,
        "completed": len(lat),
        "elapsed_s": elapsed,
        "achieved_rate": len(lat) / elapsed if elapsed else 0.0,
        "max_ms": lat[-1] * 1000 if lat else None,
        **ms,
        **counts,
    }


def _in_flight_limit(wanted: int) -> int:
    """Raise the open-files soft limit if needed; return a safe in-flight cap."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < wanted + 100:
        soft = hard if hard == resource.RLIM_INFINITY else min(hard, wanted + 100)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    if soft == resource.RLIM_INFINITY:
        return max(1, wanted)
    return max(1, min(wanted, soft - 100))


def main() -> None:
    """Parse arguments, run the open-loop load and print the result line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--bodies", type=Path, required=True)
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--duration", type=float, default=15.0)
    parser.add_argument("--timeout", type=float, default=10.0)
    parser.add_argument("--max-in-flight", type=int, default=0, help="0: 2 x rate (capped by RLIMIT_NOFILE)")
    parser.add_argument("--expect", action="append", default=[], help="substring of a good body")
    args = parser.parse_args()
    max_in_flight = _in_flight_limit(args.max_in_flight or int(2 * args.rate))
    bodies = [line.encode() for line in args.bodies.read_text(encoding="utf-8").splitlines() if line]
    tally, sent, elapsed = asyncio.run(
        run(
            args.url,
            bodies,
            args.rate,
            args.duration,
            args.timeout,
            max_in_flight,
            [marker.encode() for marker in args.expect],
        )
    )
    result = summarize(tally, sent, elapsed, args.rate)
    print("BENCH_RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()

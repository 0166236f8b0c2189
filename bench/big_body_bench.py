"""Big-body benchmark (issue 22, finding 2): other VENs' poll latency while big valid bodies arrive.

For each backend our VTN (``cariflex vtn``, its own process) is started twice: with big bodies worked on off
the event loop (``CARIFLEX_OFFLOOP_BYTES`` unset: 64 KiB and up) and with everything inline
(``CARIFLEX_OFFLOOP_BYTES=0``, the behaviour before). Each time, N VENs poll every ``--interval`` seconds
(staggered, open loop: a slow answer does not delay the next poll) and the poll latency p50/p99 is measured

* ``idle``: polls only;
* ``big``:  polls while ``--big-clients`` clients each send a ~1.9 MB oadrRegisterReport (2,500 rIDs) back
  to back (each client its own registered VEN).

Example (about a minute per backend)::

    .venv/bin/python bench/big_body_bench.py --only ours-sqlite,ours-postgresql
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import oadr_bodies
import poll_bench
import registration
import report_bodies
import targets

OFFLOOP_ENV = "CARIFLEX_OFFLOOP_BYTES"
MODES = {"off-loop": None, "inline": "0"}  # mode → CARIFLEX_OFFLOOP_BYTES (None: the default threshold)
HEADERS = {"Content-Type": "application/xml"}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    poll_bench.add_common_arguments(p, vens=50, register_timeout=60.0)
    p.set_defaults(duration=8.0)
    p.add_argument("--interval", type=float, default=1.0, help="seconds between two polls of one VEN")
    p.add_argument("--big-clients", type=int, default=2, help="clients sending big oadrRegisterReport bodies")
    p.add_argument("--rids", type=int, default=2500, help="rIDs in a big oadrRegisterReport")
    args = p.parse_args(argv)
    args.targets = [t for t in poll_bench.chosen_targets(p, args) if t != "openleadr"]
    if not args.only:
        args.targets = ["ours-sqlite"]
    return args


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _poller(
    session: aiohttp.ClientSession,
    url: str,
    ven_id: str,
    offset: float,
    args: argparse.Namespace,
    until: float,
    latencies: list[float],
    failures: list[str],
) -> None:
    body = oadr_bodies.poll(ven_id).encode()
    await asyncio.sleep(offset)
    pending: set[asyncio.Task[None]] = set()

    async def one() -> None:
        started = time.perf_counter()
        try:
            async with session.post(url, data=body, headers=HEADERS) as resp:
                await resp.read()
                if resp.status != 200:
                    failures.append(f"HTTP {resp.status}")
                    return
        except (aiohttp.ClientError, TimeoutError) as err:
            failures.append(type(err).__name__)
            return
        latencies.append(time.perf_counter() - started)

    while time.monotonic() < until:
        task = asyncio.create_task(one())
        pending.add(task)
        task.add_done_callback(pending.discard)
        await asyncio.sleep(args.interval)
    if pending:
        await asyncio.wait(pending)


async def _big_sender(session: aiohttp.ClientSession, url: str, body: bytes, until: float, sent: list[float]) -> None:
    while time.monotonic() < until:
        started = time.perf_counter()
        async with session.post(url, data=body, headers=HEADERS) as resp:
            answer = await resp.read()
        if resp.status != 200 or b"oadrRegisteredReport" not in answer or b"responseCode>200<" not in answer:
            raise RuntimeError(f"big body not accepted: HTTP {resp.status} {answer[:300]!r}")
        sent.append(time.perf_counter() - started)


async def _phase(target: targets.Target, args: argparse.Namespace, vens: list[str], big: list[str]) -> dict[str, float]:
    poll_url, report_url = target.url("OadrPoll"), target.url("EiReport")
    latencies: list[float] = []
    failures: list[str] = []
    sent: list[float] = []
    bodies = [report_bodies.big_register_report(ven_id, args.rids) for ven_id in big]
    timeout = aiohttp.ClientTimeout(total=max(args.timeout, 60.0))
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        until = time.monotonic() + args.duration
        tasks = [
            _poller(session, poll_url, ven_id, i * args.interval / len(vens), args, until, latencies, failures)
            for i, ven_id in enumerate(vens)
        ]
        tasks += [_big_sender(session, report_url, body, until, sent) for body in bodies]
        await asyncio.gather(*tasks)
    if not latencies:
        raise RuntimeError(f"no poll answered ({len(failures)} failures)")
    return {
        "polls": len(latencies),
        "failures": len(failures),
        "p50_ms": 1000 * statistics.median(latencies),
        "p99_ms": 1000 * _quantile(latencies, 0.99),
        "max_ms": 1000 * max(latencies),
        "big_bodies": len(sent),
        "big_s": statistics.median(sent) if sent else 0.0,
    }


def bench_once(name: str, mode: str, args: argparse.Namespace, workdir: Path) -> dict[str, dict[str, float]]:
    value = MODES[mode]
    if value is None:
        os.environ.pop(OFFLOOP_ENV, None)
    else:
        os.environ[OFFLOOP_ENV] = value  # the VTN process inherits it
    target = poll_bench.make_target(name, args, workdir / f"{name}-{mode}")
    (workdir / f"{name}-{mode}").mkdir(parents=True, exist_ok=True)
    try:
        target.start()
        count = args.vens + args.big_clients
        ven_ids = asyncio.run(
            registration.register_vens(
                target.url("EiRegisterParty"),
                count,
                args.register_concurrency,
                args.register_timeout,
                f"{name}/{mode}",
                args.vtn_id,
            )
        )
        vens, big = ven_ids[: args.vens], ven_ids[args.vens :]
        results = {}
        for phase, senders in (("idle", []), ("big", big)):
            results[phase] = asyncio.run(_phase(target, args, vens, senders))
            row = results[phase]
            print(
                f"{name:16} {mode:9} {phase:5} polls {row['polls']:5.0f} failed {row['failures']:3.0f}  "
                f"p50 {row['p50_ms']:8.1f} ms  p99 {row['p99_ms']:8.1f} ms  max {row['max_ms']:8.1f} ms  "
                f"big bodies {row['big_bodies']:3.0f} (median {row['big_s']:.2f} s each)",
                flush=True,
            )
        return results
    finally:
        poll_bench.stop_target(target)
        os.environ.pop(OFFLOOP_ENV, None)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    size = len(report_bodies.big_register_report("ven-size", args.rids))
    print(
        f"big-body bench: {args.vens} VENs polling every {args.interval:g} s, {args.big_clients} clients sending "
        f"{size / 1e6:.2f} MB oadrRegisterReport ({args.rids} rIDs), {args.duration:g} s per phase; "
        f"targets {', '.join(args.targets)}",
        flush=True,
    )
    summary: list[str] = []
    with tempfile.TemporaryDirectory(prefix="cariflex-big-body-bench-") as tmp:
        for name in args.targets:
            results = {mode: bench_once(name, mode, args, Path(tmp)) for mode in MODES}
            on, off = results["off-loop"]["big"], results["inline"]["big"]
            summary.append(
                f"{name}: under big bodies, poll p50 inline/off-loop = {off['p50_ms']:.1f}/{on['p50_ms']:.1f} ms "
                f"(x{off['p50_ms'] / on['p50_ms']:.1f}), p99 {off['p99_ms']:.1f}/{on['p99_ms']:.1f} ms "
                f"(x{off['p99_ms'] / on['p99_ms']:.1f}); big bodies handled {off['big_bodies']:.0f}/{on['big_bodies']:.0f}"
            )
    print("\n".join(summary), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Poll benchmark: our Cariflex VTN against stock openleadr OpenADRServer.

For every target (a VTN in its own process) the bench registers N VENs over
HTTP, then measures, with the load generator in a separate process:

* ``empty poll``   - oadrPoll with nothing pending, wrk closed loop;
* ``fixed N/s``    - oadrPoll at a fixed open-loop rate (default 1000/s =
  10,000 VENs polling every 10 s), asyncio/aiohttp client;
* ``event poll``   - oadrRequestEvent (EiEvent) after one 24-interval event
  was created for every VEN, wrk closed loop;

and the VTN's RSS after each case. Examples::

    .venv/bin/python bench/poll_bench.py --only openleadr --vens 500 --duration 5
    .venv/bin/python bench/poll_bench.py --json /tmp/poll-bench.json
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import loadgen
import oadr_bodies
import registration
import report
import targets

ALL_TARGETS = ["openleadr", "ours-sqlite", "ours-postgresql"]
POLL_MARKERS = ["oadrResponse>", "responseCode>200<"]
EVENT_MARKERS = ["oadrDistributeEvent>", "responseCode>200<"]
EVENT_INTERVALS = 24


def add_common_arguments(p: argparse.ArgumentParser, vens: int, register_timeout: float) -> None:
    """Options every VTN benchmark shares: targets, load shape, our VTN's executable and database."""
    p.add_argument("--only", action="append", default=[], help=f"target(s) to run, comma-separated; of {ALL_TARGETS}")
    p.add_argument("--vens", type=int, default=vens, help="VENs to register")
    p.add_argument("--duration", type=float, default=15.0, help="seconds per measured case")
    p.add_argument("--warmup", type=float, default=2.0, help="unmeasured wrk seconds before each wrk case (0: none)")
    p.add_argument("--threads", type=int, default=1, help="wrk -t")
    p.add_argument("--connections", type=int, default=20, help="wrk -c")
    p.add_argument("--timeout", type=float, default=10.0, help="per-request timeout, seconds")
    p.add_argument("--vtn-id", default="CARIFLEX-VTN", help="vtnID expected in registration responses")
    p.add_argument("--cariflex", default=str(Path(sys.executable).parent / "cariflex"), help="our VTN's CLI executable")
    p.add_argument("--pg-admin-dsn", default="postgresql://postgres@127.0.0.1:5432/postgres", help="creates/drops the db")
    p.add_argument("--register-concurrency", type=int, default=50)
    p.add_argument("--register-timeout", type=float, default=register_timeout, help="seconds allowed for each set-up step")
    p.add_argument("--ready-timeout", type=float, default=60.0, help="seconds allowed for a VTN to start listening")
    p.add_argument("--ours-log-level", default="WARNING", help="cariflex --log-level for our VTN (openleadr logs errors only)")
    p.add_argument("--json", type=Path, help="also write results to this file")


def chosen_targets(p: argparse.ArgumentParser, args: argparse.Namespace) -> list[str]:
    """The targets --only selects (all by default), refusing unknown names."""
    chosen = [t.strip() for spec in args.only for t in spec.split(",") if t.strip()]
    unknown = sorted(set(chosen) - set(ALL_TARGETS))
    if unknown:
        p.error(f"unknown target(s) {unknown}; choose from {ALL_TARGETS}")
    return [t for t in ALL_TARGETS if t in chosen] if chosen else ALL_TARGETS


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options of the benchmark."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    add_common_arguments(p, vens=10_000, register_timeout=900.0)
    p.add_argument("--rate", type=float, default=1000.0, help="fixed-rate case: oadrPoll requests per second")
    p.add_argument("--event-timeout", type=float, default=60.0, help="seconds allowed for a created event to reach the VENs")
    args = p.parse_args(argv)
    args.targets = chosen_targets(p, args)
    return args


def make_target(name: str, args: argparse.Namespace, workdir: Path) -> targets.Target:
    """Instantiate a target by name."""
    if name == "openleadr":
        return targets.OpenLeadrTarget(args.vtn_id, workdir, args.ready_timeout)
    backend = name.removeprefix("ours-")
    return targets.CariflexTarget(
        backend, args.cariflex, args.ours_log_level, args.pg_admin_dsn, args.vtn_id, workdir, args.ready_timeout
    )


def measure(target: targets.Target, case: str, run: Callable[[], loadgen.Measurement]) -> report.CaseResult:
    """Run one case; capture its numbers and the VTN's RSS, or its error."""
    print(f"  {target.name}: {case} ...", flush=True)
    try:
        m = run()
    except (RuntimeError, OSError, ValueError) as err:
        print(f"  {target.name}: {case} FAILED: {err}", flush=True)
        return report.CaseResult(target.name, case, error=str(err))
    assert target.server is not None
    rss = target.server.rss_mb()
    result = report.CaseResult(
        target.name,
        case,
        rps=m.rps,
        p50_ms=m.p50_ms,
        p99_ms=m.p99_ms,
        non_2xx=m.non_2xx,
        unexpected=m.unexpected,
        socket_errors=m.socket_errors,
        requests=m.requests,
        rss_mb=rss,
        detail=m.detail,
    )
    if m.detail.get("bad_sample"):
        print(f"  {target.name}: {case}: first bad body: {m.detail['bad_sample']}", flush=True)
    if rss is None:
        result.error = "VTN process died during the case:\n" + target.server.log_tail()
    print(
        f"  {target.name}: {case}: {m.rps:.0f} req/s, p50 {m.p50_ms or 0:.2f} ms, "
        f"p99 {m.p99_ms or 0:.2f} ms, non-2xx {m.non_2xx}, bad body {m.unexpected}, "
        f"errors {m.socket_errors}, RSS {rss or 0:.0f} MB",
        flush=True,
    )
    return result


def wrk_case(
    url: str,
    bodies: Path,
    markers: list[str],
    settings: loadgen.LoadSettings,
    warmup: float,
) -> Callable[[], loadgen.Measurement]:
    """A wrk case: optional unmeasured warm-up, then the measured run."""

    def run() -> loadgen.Measurement:
        if warmup > 0:
            loadgen.run_wrk(url, bodies, markers, settings, warmup)
        return loadgen.run_wrk(url, bodies, markers, settings, settings.duration)

    return run


def register(target: targets.Target, args: argparse.Namespace) -> list[str]:
    """Register ``args.vens`` VENs on the running target."""
    started = time.monotonic()
    coro = registration.register_vens(
        target.url("EiRegisterParty"),
        args.vens,
        args.register_concurrency,
        args.timeout,
        target.name,
        args.vtn_id,
    )
    ven_ids = asyncio.run(asyncio.wait_for(coro, args.register_timeout))
    elapsed = time.monotonic() - started
    print(f"  {target.name}: {len(ven_ids)} VENs registered in {elapsed:.1f}s", flush=True)
    return ven_ids


def bench_target(target: targets.Target, args: argparse.Namespace, workdir: Path) -> list[report.CaseResult]:
    """Start, register, run the three cases, and return their rows."""
    settings = loadgen.LoadSettings(args.duration, args.threads, args.connections, args.timeout, args.rate)
    fixed_case = f"fixed {args.rate:g}/s"
    print(f"== {target.name}: starting", flush=True)
    target.start()
    ven_ids = register(target, args)
    polls = oadr_bodies.write_bodies(workdir / f"{target.name}-poll.txt", [oadr_bodies.poll(v) for v in ven_ids])
    events = oadr_bodies.write_bodies(
        workdir / f"{target.name}-request-event.txt",
        [oadr_bodies.request_event(v, f"bench-req-{i}") for i, v in enumerate(ven_ids)],
    )
    poll_url, event_url = target.url("OadrPoll"), target.url("EiEvent")
    drain = registration.drain_polls(poll_url, ven_ids, args.register_concurrency, args.timeout, target.name)
    asyncio.run(asyncio.wait_for(drain, args.register_timeout))
    registration.check_response(poll_url, oadr_bodies.poll(ven_ids[0]), "oadrResponse")
    results = [
        measure(target, "empty poll", wrk_case(poll_url, polls, POLL_MARKERS, settings, args.warmup)),
        measure(target, fixed_case, lambda: loadgen.run_fixed_rate(poll_url, polls, POLL_MARKERS, settings)),
    ]

    def event_case() -> loadgen.Measurement:
        target.create_events()
        wait_for_events(target, event_url, [ven_ids[0], ven_ids[-1]], args.event_timeout)
        return wrk_case(event_url, events, EVENT_MARKERS, settings, args.warmup)()

    results.append(measure(target, "event poll", event_case))
    return results


def wait_for_events(target: targets.Target, url: str, ven_ids: list[str], timeout: float) -> None:
    """Wait until oadrRequestEvent gives each VEN the 24-interval event (VTNs may cache)."""
    started = time.monotonic()
    while True:
        try:
            for ven_id in ven_ids:
                body = oadr_bodies.request_event(ven_id, "bench-check")
                registration.check_response(url, body, "oadrDistributeEvent", EVENT_INTERVALS)
        except RuntimeError:
            if time.monotonic() - started > timeout:
                raise
            time.sleep(0.25)
            continue
        print(f"  {target.name}: event visible to VENs after {time.monotonic() - started:.1f}s", flush=True)
        return


def stop_target(target: targets.Target) -> None:
    """Stop a target's server and storage, not interruptible by a second Ctrl-C."""
    print(f"== {target.name}: stopping", flush=True)
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        target.stop()
    except Exception as err:  # cleanup must go on
        print(f"== {target.name}: cleanup problem: {err}", flush=True)
    finally:
        signal.signal(signal.SIGINT, previous)


def run_all(args: argparse.Namespace, workdir: Path) -> list[report.CaseResult]:
    """Benchmark every selected target in turn; a failing target is reported."""
    results: list[report.CaseResult] = []
    for name in args.targets:
        if name.startswith("ours-") and not Path(args.cariflex).exists():
            msg = f"{args.cariflex} not found (use --only openleadr or --cariflex)"
            print(f"== {name}: skipped, {msg}", flush=True)
            results.append(report.CaseResult(name, "all", error=msg))
            continue
        target = make_target(name, args, workdir)
        try:
            results.extend(bench_target(target, args, workdir))
        except (RuntimeError, OSError, ValueError, TimeoutError) as err:
            print(f"== {name}: FAILED: {err}", flush=True)
            results.append(report.CaseResult(name, "all", error=str(err)))
        finally:
            stop_target(target)
    return results


def raise_interrupt(signum: int, frame: Any) -> None:
    """Turn SIGTERM into KeyboardInterrupt so every benchmark cleans up the same way."""
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit status."""
    args = parse_args(argv)
    loadgen.find_wrk()
    oadr_bodies.check_against_schema()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, raise_interrupt)
    print(
        f"poll bench: {args.vens} VENs, wrk -t{args.threads} -c{args.connections} "
        f"{args.duration:g}s (+{args.warmup:g}s warm-up), fixed rate {args.rate:g}/s, "
        f"targets {', '.join(args.targets)}",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="cariflex-poll-bench-") as tmp:
        try:
            results = run_all(args, Path(tmp))
        except KeyboardInterrupt:
            print("interrupted; servers stopped", file=sys.stderr)
            return 130
    print()
    print(report.format_table(results))
    print("x columns: ours/openleadr. bad body: 2xx lacking the expected message or responseCode 200.")
    print("errors: connect/read/write errors and timeouts, plus (fixed rate) requests not sent")
    print("because too many were outstanding. RSS: VTN process tree, right after the case.")
    if args.json:
        meta = {
            **vars(args),
            "json": str(args.json),
            "python": platform.python_version(),
            "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        report.write_json(args.json, results, meta)
        print(f"results written to {args.json}")
    return 1 if any(r.error for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())

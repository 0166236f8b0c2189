"""Report-ingest benchmark: oadrUpdateReport into our Cariflex VTN vs stock openleadr.

For every target (a VTN in its own process: openleadr ``OpenADRServer``, ours on
SQLite, ours on PostgreSQL) the bench registers N VENs, registers their
TELEMETRY_USAGE report (3 rIDs) and takes the VTN's reportRequestID, then sends
oadrUpdateReport messages carrying 1 interval x 3 payloads, each with a fresh
dtstart, from a load generator in a separate process:

* ``closed wrk``  - wrk closed loop (sustained reports/s), after an unmeasured warm-up;
* ``fixed N/s``   - open loop at a fixed rate for a bounded duration (p50/p99);

and reports non-2xx and bad answers (anything but oadrUpdatedReport with
responseCode 200), the VTN's RSS, and values kept vs acknowledged (ours:
``report_point`` rows; openleadr: values handed to its report callbacks).
One report is checked first; a VTN that cannot ingest the shape is reported
(openleadr 0.5.36 answers HTTP 500 to 3 payloads in one interval; it is then
measured with 3 intervals x 1 payload, the shape its own VEN sends).
Target: 1,000 reports/s sustained with p99 under 100 ms. Examples::

    .venv/bin/python bench/report_bench.py
    .venv/bin/python bench/report_bench.py --only ours-sqlite --vens 200 --duration 5
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import os
import platform
import signal
import sys
import tempfile
import time
from pathlib import Path

import loadgen
import poll_bench
import registration
import report
import report_bodies
import report_store
import report_table
import report_ven
import targets
from report_phases import Counter, Ledger, PhaseRunner

ALL_TARGETS = poll_bench.ALL_TARGETS
REPORT_VTN_SCRIPT = targets.BENCH_DIR / "report_openleadr_vtn.py"
FIRST_RATE_GUESS = 2000.0  # sizes the warm-up's bodies; the warm-up's rate sizes the closed-loop case's


class ReportOpenLeadrTarget(targets.OpenLeadrTarget):
    """Stock openleadr with report handlers that count (bench/report_openleadr_vtn.py)."""

    def command(self, port: int) -> list[str]:
        """Run the report reference script with this interpreter."""
        return [sys.executable, str(REPORT_VTN_SCRIPT), "--host", targets.HOST, "--port", str(port), "--vtn-id", self.vtn_id]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options of the benchmark."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    poll_bench.add_common_arguments(p, vens=1000, register_timeout=300.0)
    p.add_argument("--rate", type=float, default=report_table.TARGET_RATE, help="fixed-rate case: reports per second")
    p.add_argument("--shape", choices=sorted(report_bodies.SHAPES), default="1x3", help="intervals x payloads per report")
    p.add_argument("--no-fallback", action="store_true", help="do not retry openleadr with 3x1 if it cannot ingest 1x3")
    args = p.parse_args(argv)
    args.targets = poll_bench.chosen_targets(p, args)
    return args


def make_target(name: str, args: argparse.Namespace, workdir: Path) -> targets.Target:
    """Instantiate a target by name."""
    if name == "openleadr":
        return ReportOpenLeadrTarget(args.vtn_id, workdir, args.ready_timeout)
    return poll_bench.make_target(name, args, workdir)


def counter_for(target: targets.Target) -> Counter:
    """How to count the report values a target kept."""
    if isinstance(target, targets.CariflexTarget):
        return lambda: report_store.count_rows(target.db_url)
    return lambda: report_store.openleadr_tally(target.port)["values"]


def set_up(target: targets.Target, args: argparse.Namespace) -> list[report_bodies.Subscription]:
    """Register the VENs, drain their poll queues, register their reports."""
    ven_ids = poll_bench.register(target, args)
    drain = registration.drain_polls(target.url("OadrPoll"), ven_ids, args.register_concurrency, args.timeout, target.name)
    asyncio.run(asyncio.wait_for(drain, args.register_timeout))
    started = time.monotonic()
    url = target.url("EiReport")
    subscribe = report_ven.subscribe_all(url, ven_ids, args.register_concurrency, args.timeout, target.name)
    subs = asyncio.run(asyncio.wait_for(subscribe, args.register_timeout))
    print(f"  {target.name}: {len(subs)} report requests received in {time.monotonic() - started:.1f}s", flush=True)
    return subs


def choose_shape(runner: PhaseRunner, target: targets.Target, args: argparse.Namespace, notes: list[str]) -> None:
    """Check that one report is ingested whole; openleadr may fall back to 3 intervals x 1 payload."""
    problem = runner.ingest_check()
    if problem is None:
        print(f"  {target.name}: one {report_bodies.SHAPES[runner.shape]} report ingested whole", flush=True)
        return
    logged = report_store.log_problems(target.server)
    note = f"{target.name} cannot ingest {report_bodies.SHAPES[runner.shape]} reports: {problem.strip()}"
    note += f" (its log: {logged[-1]})" if logged else ""
    print(f"  {note}", flush=True)
    if target.name != "openleadr" or args.no_fallback or runner.shape == "3x1":
        raise RuntimeError(note)
    notes.append(note)
    runner.shape = "3x1"
    problem = runner.ingest_check()
    if problem is not None:
        raise RuntimeError(f"{note}; nor {report_bodies.SHAPES['3x1']}: {problem}")
    notes.append(f"{target.name} was measured with {report_bodies.SHAPES['3x1']} instead (its 'x' ratios compare shapes)")
    print(f"  {target.name}: falling back to {report_bodies.SHAPES['3x1']}", flush=True)


def bench_target(
    target: targets.Target, args: argparse.Namespace, workdir: Path, notes: list[str]
) -> tuple[list[report.CaseResult], list[Ledger]]:
    """Start, set up, run warm-up + both cases; return result rows and value ledgers."""
    settings = loadgen.LoadSettings(args.duration, args.threads, args.connections, args.timeout, args.rate)
    print(f"== {target.name}: starting", flush=True)
    target.start()
    subs = set_up(target, args)
    cpu = functools.partial(report_store.cpu_seconds, target.server)
    runner = PhaseRunner(target.name, target.url("EiReport"), subs, counter_for(target), workdir, args.shape, cpu)
    choose_shape(runner, target, args, notes)
    logged_before = len(report_store.log_problems(target.server))
    guess = FIRST_RATE_GUESS
    if args.warmup > 0:
        print(f"  {target.name}: warm-up ({args.warmup:g}s wrk) ...", flush=True)
        guess = max(100.0, runner.wrk("warm-up", settings, args.warmup, guess).rps)
    results = [
        poll_bench.measure(target, "closed wrk", lambda: runner.wrk("closed wrk", settings, args.duration, guess)),
        poll_bench.measure(target, f"fixed {args.rate:g}/s", lambda: runner.fixed(f"fixed {args.rate:g}/s", settings)),
    ]
    for row in results:
        row.detail["shape"] = runner.shape
    if isinstance(target, targets.CariflexTarget):
        cli, sql = report_store.cross_check_cli(args.cariflex, target.db_url, subs[0].ven_id)
        print(f"  {target.name}: `cariflex reports data` lists {cli} rows for {subs[0].ven_id}, SQL counts {sql}", flush=True)
        if cli != sql:
            notes.append(f"{target.name}: `cariflex reports data` lists {cli} rows for one VEN but SQL counts {sql}")
    logged = report_store.log_problems(target.server)[logged_before:]
    if logged:
        notes.append(f"{target.name} logged {len(logged)} errors/tracebacks under load, first: " + " | ".join(logged[:3]))
    return results, runner.ledgers


def run_all(
    args: argparse.Namespace, workdir: Path, notes: list[str], loads: list[str]
) -> tuple[list[report.CaseResult], list[Ledger]]:
    """Benchmark every selected target in turn; a failing target is reported, not fatal."""
    results: list[report.CaseResult] = []
    ledgers: list[Ledger] = []
    for name in args.targets:
        if name.startswith("ours-") and not Path(args.cariflex).exists():
            msg = f"{args.cariflex} not found (use --only openleadr or --cariflex)"
            print(f"== {name}: skipped, {msg}", flush=True)
            results.append(report.CaseResult(name, "all", error=msg))
            continue
        target = make_target(name, args, workdir)
        try:
            rows, ledger = bench_target(target, args, workdir, notes)
            results.extend(rows)
            ledgers.extend(ledger)
        except (RuntimeError, OSError, ValueError, TimeoutError) as err:
            print(f"== {name}: FAILED: {err}", flush=True)
            results.append(report.CaseResult(name, "all", error=str(err)))
        finally:
            poll_bench.stop_target(target)
            loads.append(report_table.load_average(f"after {name}"))
    return results, ledgers


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit status."""
    args = parse_args(argv)
    loadgen.find_wrk()
    report_bodies.check_against_schema()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, poll_bench.raise_interrupt)
    loads = [report_table.load_average("start")]
    print(
        f"report bench: {args.vens} VENs, {report_bodies.SHAPES[args.shape]} per oadrUpdateReport, "
        f"wrk -t{args.threads} -c{args.connections} {args.duration:g}s (+{args.warmup:g}s warm-up), "
        f"fixed rate {args.rate:g}/s for {args.duration:g}s, targets {', '.join(args.targets)}; "
        f"{os.cpu_count()} CPUs, load average {loads[0]}",
        flush=True,
    )
    notes: list[str] = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="cariflex-report-bench-") as tmp:
        try:
            results, ledgers = run_all(args, Path(tmp), notes, loads)
        except KeyboardInterrupt:
            print("interrupted; servers stopped, databases dropped", file=sys.stderr)
            return 130
    print()
    print(report_table.summary(results, ledgers, notes, loads, time.monotonic() - started))
    if args.json:
        meta = {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}
        meta |= {"python": platform.python_version(), "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "load": loads}
        meta |= {"notes": notes, "values": [report_table.ledger_dict(x) for x in ledgers]}
        report.write_json(args.json, results, meta)
        print(f"results written to {args.json}")
    return 1 if any(r.error for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())

"""Event → schedule benchmark: from an event's creation on our VTN to the site's schedule being
readable in a real FlexMeasures 1.0.1, for one site and for all the sites of config/sites.toml at once.

Everything but FlexMeasures runs in this process, on uvloop like the `cariflex` CLI: our VTN
(tests.support.vtn_harness.running_vtn, SQLite store) and one VEN process hosting every site
(ven.runner.VenProcess, first polls spread over one poll interval as `cariflex ven` does) with
FlexMeasuresHooks subclassed to time each step (bench/flex_timing.py). FlexMeasures (server +
one RQ scheduling worker, fresh PostgreSQL database) comes from tests.support.flexmeasures.

The clock starts when ``create_event`` returns; a site is ready when FlexMeasuresHooks has read its
schedule back (outcome recorded; PV sites have nothing to schedule: ready once their DSO limits are
posted). The bench then reads the site's dso-import-limit sensor to confirm the event's limit is
there. Targets: one site under poll interval + 5 s; all 40 within poll interval + 60 s. Examples::

    .venv/bin/python bench/flex_bench.py                      # poll 10 s, 3 one-site runs, 40 sites
    .venv/bin/python bench/flex_bench.py --poll-interval 5 --one-runs 5
    .venv/bin/python bench/flex_bench.py --job-polling-interval 0.5 --job-polling-max-interval 1  # what-if
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # tests.support is not an installed package

import uvloop  # noqa: E402
from flex_report import Case, histogram, per_site, phases, summary, worker_load  # noqa: E402
from flex_timing import SiteTiming, TimedHooks, cpu_seconds, read_rq_times  # noqa: E402
from flexmeasures_client import FlexMeasuresClient  # noqa: E402

from mapping.grid import QUARTER, ceil_slot, floor_slot  # noqa: E402
from mapping.oadr import model as m  # noqa: E402
from tests.support.flexmeasures import FlexMeasuresServer, flexmeasures_server  # noqa: E402
from tests.support.vtn_harness import VtnUnderTest, config_for_tests, running_vtn  # noqa: E402
from ven.config import FlexMeasuresSettings, SiteConfig, load_config  # noqa: E402
from ven.flexmeasures.link import client_for  # noqa: E402
from ven.flexmeasures.provision import STORAGE_KINDS, SiteAssets, provision  # noqa: E402
from ven.runner import VenProcess  # noqa: E402
from ven.site import utc_now  # noqa: E402
from ven.store import VenStore  # noqa: E402

SIGNAL = ("x-IMPORT_CAPACITY_LIMIT", "setpoint")
T0 = time.monotonic()


def say(message: str) -> None:
    """Progress line with the seconds since the bench started."""
    print(f"[{time.monotonic() - T0:6.1f} s] {message}", flush=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--poll-interval", type=float, default=10.0, help="VTN oadrRequestedOadrPollFreq and VEN default, s")
    p.add_argument("--one-runs", type=int, default=3, help="one-site events, one after another (battery, EVSE, V2G sites)")
    p.add_argument("--sites", type=int, default=40, help="how many sites of config/sites.toml the VEN hosts (0: skip all-sites)")
    p.add_argument("--limit-kw", type=float, default=5.0, help="the all-sites event's import limit (one-site events: +1 kW)")
    p.add_argument("--schedule-timeout", type=float, default=120.0, help="job-polling timeout of the client (ven.toml: PT120S)")
    p.add_argument("--job-polling-interval", type=float, default=None, help="what-if: first job-status poll wait (client: 2 s)")
    p.add_argument(
        "--job-polling-max-interval", type=float, default=None, help="what-if: cap of that doubling wait (client: 30 s)"
    )
    p.add_argument("--one-timeout", type=float, default=40.0, help="seconds (after the poll interval) to wait for one site")
    p.add_argument("--all-timeout", type=float, default=180.0, help="seconds (after the poll interval) to wait for all sites")
    p.add_argument("--keep-logs", action="store_true", help="keep the FlexMeasures server/worker logs")
    args = p.parse_args(argv)
    if args.poll_interval <= 0 or args.one_runs < 0 or not 0 <= args.sites <= 40:
        p.error("--poll-interval must be > 0, --one-runs >= 0, --sites in 0..40")
    return args


def end_of(event: m.Event) -> datetime:
    """When the event's last interval ends."""
    return event.dtstart + event.duration


async def _confirm(client: FlexMeasuresClient, timing: SiteTiming, sensor: int, event: m.Event, limit: float) -> None:
    """Read the site's dso-import-limit over the event's window; every slot it fully covers must hold its limit."""
    start, end = floor_slot(event.dtstart), ceil_slot(end_of(event))
    try:
        data = await client.get_sensor_data(sensor, start=start, duration=end - start, unit="kW", resolution=QUARTER)
    except Exception as exc:  # noqa: BLE001 - reported, not fatal
        timing.confirm_note = f"read failed: {exc}"[:60]
        return
    timing.confirmed = time.monotonic()
    slots = [start + i * QUARTER for i in range(len(data["values"]))]
    inside = [v for s, v in zip(slots, data["values"], strict=True) if event.dtstart <= s and s + QUARTER <= end_of(event)]
    values = [None if v is None else round(float(v), 3) for v in inside]
    if not values or set(values) != {limit}:
        timing.confirm_note = f"MISMATCH {values}"


async def run_round(
    vtn: VtnUnderTest,
    hooks: TimedHooks,
    checker: FlexMeasuresClient,
    assets: dict[str, SiteAssets],
    sites: list[SiteConfig],
    target: m.Target | None,
    limit: float,
    timeout: float,
    priority: int,
) -> list[SiteTiming]:
    """Create one event for `sites`, wait until each is ready (or `timeout`), confirm the limits.

    Each round's event has its own priority (the VTN refuses two events of one program and priority
    over the same window and targets); the all-sites event has 1, so it wins where they overlap."""
    hooks.begin_round(sites)
    start_in = timedelta(hours=1)
    event = await vtn.create_event(values=(limit,) * 4, signal=SIGNAL, start_in=start_in, target=target, priority=priority)
    created = time.monotonic()
    hooks.stamp_created(created)
    confirms: list[asyncio.Task] = []
    seen: set[str] = set()
    while len(seen) < len(sites) and time.monotonic() - created < timeout:
        for timing in hooks.timings.values():
            if timing.ready is not None and timing.site not in seen:
                seen.add(timing.site)
                what = "schedule read back" if timing.scheduled else ("job FAILED" if timing.job_failed else "limits posted (PV)")
                after = timing.ready - created
                say(f"  {timing.site} ({timing.kind}) {what} {after:6.2f} s after creation ({len(seen)}/{len(sites)})")
                sensor = assets[timing.site].sensors["dso-import-limit"]
                confirms.append(asyncio.create_task(_confirm(checker, timing, sensor, event, limit)))
        await asyncio.sleep(0.05)
    if len(seen) < len(sites):
        say(f"  timed out after {timeout:.0f} s: {sorted(set(hooks.timings) - seen)} not ready")
    if confirms:
        await asyncio.wait(confirms, timeout=30)
    return list(hooks.timings.values())


async def bench(args: argparse.Namespace, fm: FlexMeasuresServer, work: Path) -> list[Case]:
    """Provision, start VTN and VEN, run the one-site rounds and the all-sites round."""
    task = asyncio.current_task()
    assert task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)  # unwinds like Ctrl-C
    config = load_config()
    every_kind = [next(s for s in config.sites if s.asset.get("kind") == k) for k in STORAGE_KINDS]
    sites = list(config.sites[: args.sites]) if args.sites else every_kind
    poll = timedelta(seconds=args.poll_interval)
    settings = FlexMeasuresSettings(fm.base_url, fm.email, fm.password, timedelta(seconds=args.schedule_timeout))
    client, checker = client_for(settings), client_for(settings)
    if args.job_polling_interval is not None:
        client.job_polling_interval = args.job_polling_interval
    if args.job_polling_max_interval is not None:
        client.job_polling_max_interval = args.job_polling_max_interval
    say(f"client: job-status polls after {client.job_polling_interval:g} s, doubling up to {client.job_polling_max_interval:g} s")
    store: VenStore | None = None
    try:
        t = time.monotonic()
        assets = await provision(client, tuple(sites))
        say(f"provisioned {len(sites)} sites in FlexMeasures in {time.monotonic() - t:.1f} s")
        store = VenStore(work / "ven.db")
        hooks = TimedHooks(client, assets, store.events, utc_now, config.max_backoff)
        async with running_vtn(config_for_tests(f"sqlite:///{work / 'vtn.db'}", poll_interval=poll)) as vtn:
            ven_config = replace(
                config,
                vtn_url=f"{vtn.base_url}/OpenADR2/Simple/2.0b",
                store_path=work / "ven.db",
                default_poll_interval=poll,
                sites=tuple(sites),
                flexmeasures=None,
            )
            process = VenProcess(ven_config, hooks=hooks)
            await process.start(spread_first_polls=True)
            try:
                return await _rounds(args, vtn, process, hooks, checker, assets, sites, fm)
            finally:
                await process.stop()
    finally:
        await client.close()
        await checker.close()
        if store is not None:
            store.close()


async def _rounds(
    args: argparse.Namespace,
    vtn: VtnUnderTest,
    process: VenProcess,
    hooks: TimedHooks,
    checker: FlexMeasuresClient,
    assets: dict[str, SiteAssets],
    sites: list[SiteConfig],
    fm: FlexMeasuresServer,
) -> list[Case]:
    """Wait for every site VEN to register, then the one-site rounds, then the all-sites round."""
    poll_s = args.poll_interval
    deadline = time.monotonic() + poll_s + 60
    while not all(v.site.registration for v in process.vens.values()):
        if time.monotonic() > deadline:
            raise RuntimeError("the site VENs did not all register within poll interval + 60 s")
        await asyncio.sleep(0.2)
    say(f"{len(process.vens)} site VENs registered with the VTN (polling every {poll_s:g} s, spread)")
    venv = Path(os.environ.get("CARIFLEX_FM_VENV", REPO / ".venv-flexmeasures"))
    cases: list[Case] = []
    kinds = [k for k in STORAGE_KINDS if any(s.asset.get("kind") == k for s in sites)]
    picks = [next(s for s in sites if s.asset.get("kind") == k) for k in kinds]
    one: list[SiteTiming] = []
    for run in range(args.one_runs if picks else 0):
        site = picks[run % len(picks)]
        await asyncio.sleep(1.0)  # let the previous run's trailing requests settle
        say(f"one-site run {run + 1}/{args.one_runs}: event for {site.name} ({site.asset.get('kind')})")
        target = m.Target(ven_ids=(process.vens[site.name].site.ven_id,))
        one += await run_round(vtn, hooks, checker, assets, [site], target, args.limit_kw + 1, poll_s + args.one_timeout, run + 2)
    error = read_rq_times(fm.run_dir, one, venv)
    if one:
        cases.append(Case(f"1 site x{len(one)}", one, poll_s + 5))
    if args.sites:
        await asyncio.sleep(2.0)
        say(f"all-sites run: one event for all {len(sites)} sites (empty target)")
        cpu, wall = cpu_seconds(fm.run_dir), time.monotonic()
        every = await run_round(vtn, hooks, checker, assets, sites, None, args.limit_kw, poll_s + args.all_timeout, 1)
        used = {k: v - cpu.get(k, 0.0) for k, v in cpu_seconds(fm.run_dir).items()}
        say(
            f"CPU seconds during the all-sites round ({time.monotonic() - wall:.1f} s wall × {os.cpu_count()} CPUs): "
            + ", ".join(f"{k} {v:.1f}" for k, v in used.items())
        )
        error = read_rq_times(fm.run_dir, every, venv) or error
        cases.append(Case(f"{len(sites)} sites", every, poll_s + 60, concurrent=True))
        schedules = [t for t in every if t.kind in STORAGE_KINDS]
        if len(schedules) != len(every):
            cases.append(Case(f"  of which {len(schedules)} scheduled", schedules, poll_s + 60))
    if error:
        say(f"RQ job timestamps unavailable ({error}): queued/solving/notice phases left out")
    return cases


def _terminate(signum: int, frame: object) -> None:
    """SIGTERM outside the event loop: unwind like Ctrl-C (FlexMeasures stopped, database dropped)."""
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """Start FlexMeasures, run the bench, print the tables; FlexMeasures is stopped whatever happens."""
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)  # outside the event loop: same clean-up as Ctrl-C
    work = Path(tempfile.mkdtemp(prefix="cariflex-flexbench-"))
    cases: list[Case] = []
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    say(f"event→schedule bench: poll interval {args.poll_interval:g} s, {os.cpu_count()} CPUs (load {load}), work dir {work}")
    try:
        with flexmeasures_server(work / "flexmeasures", echo=lambda line: say(f"  {line}")) as fm:
            with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
                cases = runner.run(bench(args, fm, work))
    except (KeyboardInterrupt, asyncio.CancelledError):
        say("interrupted: FlexMeasures stopped and its database dropped")
        return 130
    finally:
        if args.keep_logs:
            say(f"logs kept in {work / 'flexmeasures'}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"\nload average at the end (1/5/15 min): {load} on {os.cpu_count()} CPUs (other work skews the numbers)")
    print("\n== create_event → schedule readable (seconds) ==")
    print(summary(cases, args.poll_interval))
    print("\n== where the time goes (per site: median, max) ==")
    print(phases(cases))
    for case in cases:
        if not case.name.startswith(" "):
            print(f"\n== {case.name}: per site ==")
            print(per_site(case.timings))
            if case.concurrent:
                print(worker_load(case.timings))
            print("ready after creation:")
            print(histogram(case.timings))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

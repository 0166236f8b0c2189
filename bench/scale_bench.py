"""Scale-out curve: poll throughput of 1, 2 and 3 `cariflex vtn` processes on one PostgreSQL behind a
Debian nginx (round robin), next to stock openleadr (alone and behind the same nginx) in the same run.
Prints a table; asserts nothing.

    .venv/bin/python bench/scale_bench.py [--vens 10000] [--duration 15] [--connections 60] [--threads 2]

Cases (wrk closed loop, one request body per VEN, rotating — bench/rotate_bodies.lua):
* ``empty poll``  — oadrPoll with nothing pending;
* ``event poll``  — oadrRequestEvent answered with one 24-interval event for every VEN.
Our VENs are bulk-inserted into the store (bench/vtn_cluster.py); openleadr's register over HTTP (it keeps
them in memory). nginx runs one worker per CPU. On a 2-core machine load generator, nginx, PostgreSQL and
the VTN processes share the two cores: read the curve as what the VTN side costs, not as a ceiling.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import loadgen
import oadr_bodies
import psutil
import registration
import targets
import vtn_cluster

sys.path.insert(0, str(vtn_cluster.REPO_ROOT))
from tests.support.nginx import running_balancer  # noqa: E402  (the same nginx configuration as the scale-out tests)

POLL_MARKERS = ["oadrResponse>", "responseCode>200<"]
EVENT_MARKERS = ["oadrDistributeEvent>", "responseCode>200<"]


def parse_args() -> argparse.Namespace:
    """Command-line options."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--vens", type=int, default=10_000)
    p.add_argument("--processes", default="1,2,3", help="process counts to measure, comma-separated")
    p.add_argument("--duration", type=float, default=15.0, help="seconds per measured case")
    p.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds before each case")
    p.add_argument("--threads", type=int, default=2, help="wrk -t")
    p.add_argument("--connections", type=int, default=60, help="wrk -c")
    p.add_argument("--nginx-workers", type=int, default=os.cpu_count() or 1)
    p.add_argument("--skip-openleadr", action="store_true")
    p.add_argument("--pg-admin-dsn", default="postgresql://postgres@127.0.0.1:5432/postgres")
    p.add_argument("--ready-timeout", type=float, default=300.0)
    p.add_argument("--log-level", default="WARNING")
    p.add_argument("--json", type=Path, help="also write the rows to this file")
    return p.parse_args()


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time used so far by these processes and their children."""
    total = 0.0
    for pid in pids:
        try:
            root = psutil.Process(pid)
            for proc in [root, *root.children(recursive=True)]:
                times = proc.cpu_times()
                total += times.user + times.system
        except psutil.Error:
            continue
    return total


def nginx_pids() -> list[int]:
    """The nginx processes this benchmark started."""
    return [p.pid for p in psutil.Process().children(recursive=True) if p.name() == "nginx"]


def wrk(
    url: str, bodies: Path, markers: list[str], args: argparse.Namespace, vtn_pids: list[int]
) -> tuple[loadgen.Measurement, dict]:
    """One closed-loop wrk case after an unmeasured warm-up; also the CPU time per request of the VTN
    process(es) and of nginx during the measured run (what predicts throughput with more cores)."""
    settings = loadgen.LoadSettings(args.duration, args.threads, args.connections, 10.0)
    if args.warmup > 0:
        loadgen.run_wrk(url, bodies, markers, settings, args.warmup)
    proxies = nginx_pids()
    vtn_before, nginx_before = cpu_seconds(vtn_pids), cpu_seconds(proxies)
    measured = loadgen.run_wrk(url, bodies, markers, settings, args.duration)
    requests = max(1, measured.requests)
    cpu = {
        "vtn_cpu_us": round((cpu_seconds(vtn_pids) - vtn_before) / requests * 1e6),
        "nginx_cpu_us": round((cpu_seconds(proxies) - nginx_before) / requests * 1e6) if proxies else 0,
    }
    return measured, cpu


def row(target: str, processes: int, case: str, run: tuple[loadgen.Measurement, dict]) -> dict:
    """A printed and returned result row."""
    m, cpu = run
    result = {
        "target": target,
        "processes": processes,
        "case": case,
        "rps": round(m.rps),
        "p50_ms": m.p50_ms,
        "p99_ms": m.p99_ms,
        "bad": m.non_2xx + m.unexpected + m.socket_errors,
        **cpu,
    }
    print(
        f"  {target:<28} {processes} proc  {case:<11} {m.rps:8.0f} req/s  p50 {m.p50_ms or 0:6.1f} ms  "
        f"p99 {m.p99_ms or 0:6.1f} ms  bad {result['bad']}  CPU/request: VTN {cpu['vtn_cpu_us']} µs, "
        f"nginx {cpu['nginx_cpu_us']} µs",
        flush=True,
    )
    return result


async def bench_ours(args: argparse.Namespace, workdir: Path) -> list[dict]:
    """1, 2, 3 processes behind nginx (and one process without nginx)."""
    counts = [int(c) for c in args.processes.split(",")]
    database = vtn_cluster.BenchDatabase(args.pg_admin_dsn)
    servers = []
    rows: list[dict] = []
    try:
        vtn_cluster.insert_vens(database.url, args.vens, {})
        servers = vtn_cluster.start_processes(database.url, max(counts), workdir, args.ready_timeout, args.log_level)
        ven_ids = [vtn_cluster.ven_id(i) for i in range(args.vens)]
        polls = oadr_bodies.write_bodies(workdir / "ours-poll.txt", [oadr_bodies.poll(v) for v in ven_ids])
        requests = oadr_bodies.write_bodies(
            workdir / "ours-request.txt", [oadr_bodies.request_event(v, f"bench-{i}") for i, v in enumerate(ven_ids)]
        )
        direct = f"http://127.0.0.1:{servers[0].port}/OpenADR2/Simple/2.0b"
        for case, service, bodies, markers in (
            ("empty poll", "OadrPoll", polls, POLL_MARKERS),
            ("event poll", "EiEvent", requests, EVENT_MARKERS),
        ):
            if case == "event poll":
                targets.create_cariflex_event(vtn_cluster.CARIFLEX, database.url)
                time.sleep(3)  # every process picks it up (NOTIFY) and the first fan-out settles
            # every process stays up (idle ones only refresh); CPU per request is that of the processes served
            pids = [s.proc.pid for s in servers if s.proc is not None]
            rows.append(row("ours (no nginx)", 1, case, wrk(f"{direct}/{service}", bodies, markers, args, pids[:1])))
            for count in counts:
                ports = [s.port for s in servers[:count]]
                async with running_balancer(workdir / f"nginx-{count}", ports, workers=args.nginx_workers) as balanced:
                    url = f"{balanced}/OpenADR2/Simple/2.0b/{service}"
                    rows.append(row("ours behind nginx", count, case, wrk(url, bodies, markers, args, pids[:count])))
    finally:
        vtn_cluster.stop_processes(servers)
        database.close()
    return rows


async def bench_openleadr(args: argparse.Namespace, workdir: Path) -> list[dict]:
    """Stock openleadr (one process: it keeps VENs and events in memory, so it cannot be scaled out)."""
    target = targets.OpenLeadrTarget("CARIFLEX-VTN", workdir, args.ready_timeout)
    rows: list[dict] = []
    try:
        target.start()
        ven_ids = await registration.register_vens(target.url("EiRegisterParty"), args.vens, 50, 30.0, "openleadr")
        await registration.drain_polls(target.url("OadrPoll"), ven_ids, 50, 30.0, "openleadr")
        polls = oadr_bodies.write_bodies(workdir / "ol-poll.txt", [oadr_bodies.poll(v) for v in ven_ids])
        requests = oadr_bodies.write_bodies(
            workdir / "ol-request.txt", [oadr_bodies.request_event(v, f"bench-{i}") for i, v in enumerate(ven_ids)]
        )
        for case, service, bodies, markers in (
            ("empty poll", "OadrPoll", polls, POLL_MARKERS),
            ("event poll", "EiEvent", requests, EVENT_MARKERS),
        ):
            if case == "event poll":
                target.create_events()
            pids = [target.server.proc.pid] if target.server and target.server.proc else []
            rows.append(row("openleadr (no nginx)", 1, case, wrk(target.url(service), bodies, markers, args, pids)))
            async with running_balancer(workdir / "nginx-ol", [target.port], workers=args.nginx_workers) as balanced:
                url = f"{balanced}/OpenADR2/Simple/2.0b/{service}"
                rows.append(row("openleadr behind nginx", 1, case, wrk(url, bodies, markers, args, pids)))
    finally:
        target.stop()
    return rows


def main() -> None:
    """Run both sides in one go and print the rows."""
    args = parse_args()
    loadgen.find_wrk()
    with tempfile.TemporaryDirectory(prefix="cariflex-scale-") as tmp:
        workdir = Path(tmp)
        rows = [] if args.skip_openleadr else asyncio.run(bench_openleadr(args, workdir))
        rows += asyncio.run(bench_ours(args, workdir))
    print("RESULT " + json.dumps(rows), flush=True)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()

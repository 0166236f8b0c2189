"""Fan-out benchmark: 100,000 registered VENs in PostgreSQL, one DSO event for a group of 10,000 of them.
Prints the time the DSO API takes to accept the event and how the group's next polls go. Asserts nothing.

    .venv/bin/python bench/fanout_bench.py [--vens 100000] [--group 10000] [--processes 2] [--poll-interval 10]

1. A fresh PostgreSQL database; --vens VENs and the group's memberships bulk-inserted through the store.
2. --processes `cariflex vtn` processes on it (each loads every VEN), behind a Debian nginx (round robin).
3. A DSO client (`cariflex dso client add`) takes a token; a warm-up event for a one-VEN group, then the
   measured event (3.1 `POST /events`, target = the group) is sent to process 0 directly: time to 201.
4. Right away, every VEN of the group polls once, all spread evenly over one poll interval (open loop,
   bench/fixed_rate_client.py, through nginx, so most polls land on processes that did not accept the
   event): how many got the event at that first poll, poll latency, and when the last one got it.
   A probe VEN of the group polls process N-1 back to back meanwhile: the time the event takes to reach
   another process's cache (LISTEN/NOTIFY).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import loadgen
import oadr_bodies
import vtn_cluster

sys.path.insert(0, str(vtn_cluster.REPO_ROOT))
from tests.support.nginx import running_balancer  # noqa: E402  (the same nginx configuration as the scale-out tests)


def parse_args() -> argparse.Namespace:
    """Command-line options."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--vens", type=int, default=100_000)
    p.add_argument("--group", type=int, default=10_000, help="VENs the event targets")
    p.add_argument("--processes", type=int, default=2, help="VTN processes behind nginx")
    p.add_argument("--poll-interval", type=float, default=10.0, help="seconds over which the group's polls are spread")
    p.add_argument("--pg-admin-dsn", default="postgresql://postgres@127.0.0.1:5432/postgres")
    p.add_argument("--ready-timeout", type=float, default=300.0)
    p.add_argument("--log-level", default="WARNING")
    p.add_argument("--json", type=Path, help="also write the numbers to this file")
    return p.parse_args()


def event_body(group: str, start: datetime) -> dict:
    """A 3.1 capacity event of 4 quarter hours for `group`."""
    return {
        "programID": vtn_cluster.PROGRAM_ID,
        "eventName": "fan-out bench",
        "targets": [group],
        "intervalPeriod": {"start": start.strftime("%Y-%m-%dT%H:%M:%SZ"), "duration": "PT15M"},
        "payloadDescriptors": [{"objectType": "EVENT_PAYLOAD_DESCRIPTOR", "payloadType": "IMPORT_CAPACITY_LIMIT", "units": "KW"}],
        "intervals": [{"id": i, "payloads": [{"type": "IMPORT_CAPACITY_LIMIT", "values": [6.0 - i / 2]}]} for i in range(4)],
    }


def post_event(api: str, token: str, body: dict) -> tuple[float, str]:
    """POST an event; (seconds to the 201, event id)."""
    request = urllib.request.Request(
        f"{api}/events",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            created = json.load(response)
    except urllib.error.HTTPError as exc:
        raise RuntimeError(f"POST events: HTTP {exc.code}: {exc.read()[:500]!r}") from exc
    return time.monotonic() - started, created["id"]


def probe(url: str, ven: str, event_id: str, timeout: float) -> float | None:
    """Poll back to back until `event_id` is distributed to `ven`; seconds it took (None: not within `timeout`)."""
    started = time.monotonic()
    body = oadr_bodies.poll(ven).encode()
    while time.monotonic() - started < timeout:
        request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/xml"})
        with urllib.request.urlopen(request, timeout=30) as response:
            if event_id.encode() in response.read():
                return time.monotonic() - started
    return None


async def run(args: argparse.Namespace, workdir: Path) -> dict:
    """The whole benchmark; returns its numbers."""
    database = vtn_cluster.BenchDatabase(args.pg_admin_dsn)
    servers = []
    try:
        members = range(args.group + 1)  # the last one is the probe
        groups = {"bench-group": members, "warm-group": range(args.vens - 1, args.vens)}
        inserted = vtn_cluster.insert_vens(database.url, args.vens, groups)
        print(f"{args.vens:,} VENs and a group of {len(members):,} inserted in {inserted:.1f} s", flush=True)
        started = time.monotonic()
        servers = vtn_cluster.start_processes(database.url, args.processes, workdir, args.ready_timeout, args.log_level)
        print(
            f"{args.processes} VTN process(es) started (each loading every VEN) in {time.monotonic() - started:.1f} s", flush=True
        )
        ports = [s.port for s in servers]
        api = f"http://127.0.0.1:{ports[0]}/openadr3/3.1.0"
        token = vtn_cluster.dso_token(workdir / "vtn-0.toml", api)
        polls = oadr_bodies.write_bodies(workdir / "polls.txt", [oadr_bodies.poll(vtn_cluster.ven_id(i)) for i in members[:-1]])
        async with running_balancer(workdir / "nginx", ports) as balanced:
            start = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=2)
            warm, _ = post_event(api, token, event_body("warm-group", start + timedelta(days=1)))
            accept, event_id = post_event(api, token, event_body("bench-group", start))
            print(
                f"event accepted in {accept * 1000:.0f} ms (warm-up event for a one-VEN group: {warm * 1000:.0f} ms)", flush=True
            )
            settings = loadgen.LoadSettings(duration=args.poll_interval, timeout=10.0, rate=args.group / args.poll_interval)
            poll_url = f"{balanced}/OpenADR2/Simple/2.0b/OadrPoll"
            probe_url = f"http://127.0.0.1:{ports[-1]}/OpenADR2/Simple/2.0b/OadrPoll"
            sweep = asyncio.to_thread(loadgen.run_fixed_rate, poll_url, polls, ["oadrDistributeEvent>", event_id], settings)
            probed = asyncio.to_thread(probe, probe_url, vtn_cluster.ven_id(members[-1]), event_id, args.poll_interval)
            swept_started = time.monotonic()
            measured, reached = await asyncio.gather(sweep, probed)
            swept = time.monotonic() - swept_started
        rss = [round(s.rss_mb() or 0) for s in servers]
        got = measured.requests - measured.unexpected - measured.non_2xx
        numbers = {
            "vens": args.vens,
            "group": args.group,
            "processes": args.processes,
            "accept_ms": round(accept * 1000, 1),
            "warmup_accept_ms": round(warm * 1000, 1),
            "other_process_ms": round(reached * 1000, 1) if reached is not None else None,
            "first_polls": measured.requests,
            "got_event_at_first_poll": got,
            "poll_p50_ms": measured.p50_ms,
            "poll_p99_ms": measured.p99_ms,
            "errors": measured.socket_errors,
            "last_delivery_s": round(accept + swept, 2),
            "rss_mb_per_process": rss,
        }
        print(
            f"{got:,} of {args.group:,} VENs got the event at their first poll after it was accepted "
            f"(polls spread over {args.poll_interval:g} s through nginx: p50 {measured.p50_ms:.1f} ms, "
            f"p99 {measured.p99_ms:.1f} ms, {measured.socket_errors} errors); the last one had it "
            f"{accept + swept:.1f} s after the POST",
            flush=True,
        )
        print(f"event in another process's cache after {numbers['other_process_ms']} ms; RSS per process {rss} MB", flush=True)
        return numbers
    finally:
        vtn_cluster.stop_processes(servers)
        database.close()


def main() -> None:
    """Run and print (and optionally save) the numbers."""
    args = parse_args()
    with tempfile.TemporaryDirectory(prefix="cariflex-fanout-") as tmp:
        numbers = asyncio.run(run(args, Path(tmp)))
    print("RESULT " + json.dumps(numbers), flush=True)
    if args.json:
        args.json.write_text(json.dumps(numbers, indent=2))


if __name__ == "__main__":
    main()

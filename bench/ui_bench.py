"""Operator UI benchmark: event-log page render time with 100,000 events and 10,000 VENs in the store.

Seeds a fresh SQLite file and a fresh PostgreSQL database (events over two years, 2 % of them live,
three deliveries and two answers per event), runs the VTN in this process on a loopback port, logs
in, and times whole HTTP requests of the event log: first page, each filter, a deep keyset page.
Prints p50/p95 per query and backend (target: p95 under 200 ms). Not a test: numbers only.

    .venv/bin/python bench/ui_bench.py [--events 100000] [--vens 10000] [--requests 40] [--backend sqlite|postgresql|both]
"""

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import psycopg
from aiohttp.test_utils import TestServer
from sqlalchemy import insert

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mapping.oadr import model as m  # noqa: E402
from mapping.oadr.json_form import event_to_json  # noqa: E402
from mapping.oadr.lifecycle import event_end  # noqa: E402
from tests.support.databases import PG_ADMIN_DSN, pg_url  # noqa: E402
from tests.support.ui import add_user, login  # noqa: E402
from vtn.app import build  # noqa: E402
from vtn.config import ProgramConfig, VtnConfig  # noqa: E402
from vtn.store import models as db  # noqa: E402
from vtn.store.database import make_engine, upgrade  # noqa: E402
from vtn.store.worker import StoreWorker  # noqa: E402

PROGRAMS = (("sei", "http://cariflex.mq/programs/sei-evening-peak"), ("dso", "http://cariflex.mq/programs/dso-capacity"))
NOW = datetime.now(UTC).replace(microsecond=0)
CHUNK = 5000


def _event(n: int, rng: random.Random) -> tuple[dict, list[dict], list[dict]]:
    live = n % 50 == 0
    dtstart = NOW + timedelta(hours=rng.randint(1, 48)) if live else NOW - timedelta(minutes=15 * rng.randint(8, 70_000))
    duration = timedelta(minutes=15 * rng.randint(1, 8))
    status = "far" if live else rng.choice(("completed", "completed", "completed", "cancelled"))
    signal = m.Signal(
        "SIMPLE",
        "level",
        "0",
        tuple(m.Interval(timedelta(minutes=15), 1.0 + k % 3, k) for k in range(duration // timedelta(minutes=15))),
    )
    market = PROGRAMS[n % 2][1]
    vens = [f"ven-{rng.randrange(10_000):05d}" for _ in range(3)]
    event = m.Event(
        f"evt-{n:07d}",
        0,
        market,
        dtstart - timedelta(days=1),
        status,
        dtstart,
        duration,
        (signal,),
        m.Target(ven_ids=tuple(vens)),
    )
    row = {
        "event_id": event.event_id, "market_context": market, "modification_number": 0, "status": status,
        "cancelled": status == "cancelled", "priority": None, "dtstart": dtstart, "end_at": event_end(dtstart, duration),
        "source": rng.choice(("dso-api", "aggregator", "cli")), "created_at": dtstart - timedelta(days=1),
        "modified_at": dtstart - timedelta(days=1), "closed": not live, "body": event_to_json(event),
    }  # fmt: skip
    deliveries = [
        {"ven_id": v, "event_id": event.event_id, "modification_number": 0, "first_delivered_at": dtstart - timedelta(hours=20)}
        for v in dict.fromkeys(vens)
    ]
    answers = [
        {"ven_id": v, "event_id": event.event_id, "modification_number": 0, "opt_type": rng.choice(("optIn", "optOut")),
         "response_code": 200, "response_description": "OK", "request_id": "r", "received_at": dtstart - timedelta(hours=19)}
        for v in list(dict.fromkeys(vens))[:2]
    ]  # fmt: skip
    return row, deliveries, answers


def seed(url: str, events: int, vens: int) -> float:
    """Fill the store; returns the seconds it took."""
    began = time.perf_counter()
    upgrade(url)
    engine = make_engine(url)
    rng = random.Random(8)
    with engine.begin() as conn:
        ven_rows = [
            {"ven_id": f"ven-{k:05d}", "ven_name": f"site-{k:05d}", "registration_id": f"reg-{k:05d}", "profile_name": "2.0b",
             "transport_name": "simpleHttp", "http_pull_model": True, "report_only": False, "xml_signature": False,
             "registered_at": NOW - timedelta(days=30), "updated_at": NOW - timedelta(days=30),
             "last_seen_at": NOW - timedelta(seconds=k % 120)}
            for k in range(vens)
        ]  # fmt: skip
        for start in range(0, len(ven_rows), CHUNK):
            conn.execute(insert(db.Ven), ven_rows[start : start + CHUNK])
        conn.execute(insert(db.Program), [{"program_id": p, "market_context": mc, "name": p} for p, mc in PROGRAMS])
    for start in range(0, events, CHUNK):
        rows, deliveries, answers = [], [], []
        for n in range(start, min(events, start + CHUNK)):
            row, d, a = _event(n, rng)
            rows.append(row)
            deliveries += d
            answers += a
        with engine.begin() as conn:
            conn.execute(insert(db.Event), rows)
            conn.execute(insert(db.EventDelivery), deliveries)
            conn.execute(insert(db.EventResponse), answers)
    with engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")  # fresh statistics, as a long-running store has
    engine.dispose()
    return time.perf_counter() - began


def _pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


async def measure(url: str, requests: int) -> list[tuple[str, float, float, int]]:
    """(page, p50 ms, p95 ms, rows on the page) per event-log query, and for the VEN list."""
    config = VtnConfig(port=0, db_url=url, programs=tuple(ProgramConfig(p, mc, p) for p, mc in PROGRAMS))
    process = build(config)
    server = TestServer(process.app, host="127.0.0.1", port=0)
    await server.start_server()
    admin = StoreWorker(url)
    await add_user(admin, "bench", "viewer")
    admin.close()
    base = f"http://127.0.0.1:{server.port}"
    session = await login(base, "bench")
    try:
        deep = urlencode({"after": f"{(NOW - timedelta(days=400)).isoformat()}|evt-9999999"})
        queries = {
            "first page": "",
            "status=cancelled": "status=cancelled",
            "program=dso": "program=dso",
            "site=ven-00042": "site=ven-00042",
            "one month": f"from={(NOW - timedelta(days=60)).date()}&to={(NOW - timedelta(days=30)).date()}",
            "deep keyset page": deep,
            "sort=created asc": "sort=created&order=asc",
        }
        paths = {name: f"/ui/events?{query}" for name, query in queries.items()}
        paths["VEN list (map + 100)"] = "/ui/vens"
        results = []
        for name, path in paths.items():
            samples, rows = [], 0
            for _ in range(requests):
                began = time.perf_counter()
                async with session.get(base + path) as reply:
                    html = await reply.text()
                    assert reply.status == 200, html[:300]
                samples.append((time.perf_counter() - began) * 1000)
                rows = html.count("<tr data-event=") + html.count("<tr data-ven=")
            results.append((name, statistics.median(samples), _pct(samples, 0.95), rows))
        return results
    finally:
        await session.close()
        await server.close()


def run_backend(kind: str, events: int, vens: int, requests: int) -> None:
    """Seed one backend, measure, clean up, print."""
    if kind == "sqlite":
        folder = tempfile.TemporaryDirectory(prefix="cariflex-ui-bench-")
        url, drop = f"sqlite:///{folder.name}/vtn.db", folder.cleanup
    else:
        name = f"cfx_uibench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        url = pg_url(name)

        def drop() -> None:
            with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    try:
        seconds = seed(url, events, vens)
        print(f"\n{kind}: seeded {events:,} events, {vens:,} VENs, ~{3 * events:,} deliveries in {seconds:.0f} s", flush=True)
        print(f"{'page':<22} {'p50 ms':>8} {'p95 ms':>8} {'rows':>5}")
        for name, p50, p95, rows in asyncio.run(measure(url, requests)):
            print(f"{name:<22} {p50:8.1f} {p95:8.1f} {rows:5d}", flush=True)
    finally:
        drop()


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--vens", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=40, help="timed requests per query")
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    args = parser.parse_args()
    for kind in ("sqlite", "postgresql") if args.backend == "both" else (args.backend,):
        run_backend(kind, args.events, args.vens, args.requests)


if __name__ == "__main__":
    main()

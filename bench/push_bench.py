"""Push benchmark: time for our VTN to push one event to N push-mode VENs (default 1,000; target < 5 s).

Our VTN runs in its own process (``cariflex vtn``, SQLite or PostgreSQL). This process hosts the N VEN
endpoints on one loopback aiohttp server, one path per VEN (``/ven/<i>/OpenADR2/Simple/2.0b/<service>``),
registers the N VENs with oadrHttpPullModel false, waits until each got the VTN's bootstrap push
(oadrRegisterReport, answered oadrRegisteredReport), then creates one event for all of them with the CLI and
measures, from the event's creation time in the store (the CLI's clock: same machine):

* ``first push``  - until the first oadrDistributeEvent reached an endpoint;
* ``all pushed``  - until every VEN got it (the target: under 5 s);
* ``all answered``- until the VTN stored every VEN's optIn (the oadrCreatedEvent in each push answer).

The VTN notices an event made by another process within its store refresh interval (1 s), which is part
of the numbers. Stock openleadr's OpenADRServer has no push mode (no code sends anything to a VEN's
transportAddress; openleadr-python issues #124, #147), so there is nothing to compare it with.

    .venv/bin/python bench/push_bench.py --vens 1000
    .venv/bin/python bench/push_bench.py --backend postgresql
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import re
import sys
import tempfile
import time
from datetime import UTC
from pathlib import Path

import aiohttp
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import targets  # noqa: E402  (bench/ is on the path when run as a script)

from mapping.oadr import model as m  # noqa: E402
from mapping.oadr import report_model as r  # noqa: E402
from mapping.oadr.encode import encode  # noqa: E402

HEADERS = {"Content-Type": "application/xml"}
BASE = "/OpenADR2/Simple/2.0b"
PROGRAM = "http://cariflex.mq/programs/sei-evening-peak"
_TAG = re.compile(rb"<(?:\w+:)?(eventID|modificationNumber|requestID)(?:\s[^>]*)?>([^<]*)<")


def _first_values(body: bytes) -> dict[str, str]:
    """The first value of each tag (the message's own requestID comes before any other)."""
    found: dict[str, str] = {}
    for key, value in _TAG.findall(body):
        found.setdefault(key.decode(), value.decode())
    return found


class Endpoints:
    """N VEN endpoints on one server; records when each VEN got its first oadrDistributeEvent."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.ven_ids: list[str] = [""] * count
        self.bootstrapped: set[int] = set()
        self.pushed_at: dict[int, float] = {}
        self.all_bootstrapped = asyncio.Event()
        self.all_pushed = asyncio.Event()
        self.port = 0

    def address(self, index: int) -> str:
        return f"http://{targets.HOST}:{self.port}/ven/{index}{BASE}"

    async def handle(self, request: web.Request) -> web.Response:
        index = int(request.match_info["index"])
        body = await request.read()
        ven_id = self.ven_ids[index]
        if b"oadrRegisterReport" in body:
            self.bootstrapped.add(index)
            if len(self.bootstrapped) == self.count:
                self.all_bootstrapped.set()
            request_id = _first_values(body).get("requestID", "")
            return _xml(r.RegisteredReport(m.EiResponse(request_id=request_id), ven_id=ven_id))
        if b"oadrDistributeEvent" in body:
            self.pushed_at.setdefault(index, time.time())
            if len(self.pushed_at) == self.count:
                self.all_pushed.set()
            found = _first_values(body)
            answer = m.EventResponse(200, "OK", found["requestID"], found["eventID"], int(found["modificationNumber"]), "optIn")
            return _xml(m.CreatedEvent(m.EiResponse(request_id=found["requestID"]), ven_id, (answer,)))
        return web.Response(status=200)

    async def start(self) -> web.AppRunner:
        app = web.Application()
        app.router.add_post("/ven/{index}" + BASE + "/{service}", self.handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, targets.HOST, 0, backlog=4096)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return runner


def _xml(message: object) -> web.Response:
    return web.Response(body=encode(message), content_type="application/xml")  # type: ignore[arg-type]


async def register(url: str, endpoints: Endpoints, concurrency: int) -> None:
    """Register every VEN in push mode with its endpoint's address."""
    queue = list(range(endpoints.count))

    async def worker(session: aiohttp.ClientSession) -> None:
        while queue:
            index = queue.pop()
            message = m.CreatePartyRegistration(
                request_id=f"reg-{index}",
                profile_name="2.0b",
                transport_name="simpleHttp",
                report_only=False,
                xml_signature=False,
                ven_name=f"push-bench-{index:05d}",
                http_pull_model=False,
                transport_address=endpoints.address(index),
            )
            async with session.post(url, data=encode(message), headers=HEADERS) as resp:
                payload = await resp.read()
            ven_id = re.search(rb"<(?:\w+:)?venID>([^<]+)<", payload)
            if resp.status != 200 or ven_id is None:
                raise RuntimeError(f"registration {index} refused: {payload[:300]!r}")
            endpoints.ven_ids[index] = ven_id.group(1).decode()

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))


async def answered(target: targets.CariflexTarget, count: int, timeout: float) -> tuple[float, float]:
    """Wait until the VTN stored `count` event responses; (when the event was created, when the last
    answer was stored), as wall-clock seconds (the event's creation time is the CLI's, in the store)."""
    from sqlalchemy import create_engine, func, select

    from vtn.store import models as db

    engine = create_engine(target.db_url)
    deadline = time.monotonic() + timeout
    stored = 0
    try:
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                stored = conn.scalar(select(func.count()).select_from(db.EventResponse)) or 0
                if stored >= count:
                    done = time.time()
                    created = conn.scalar(select(func.min(db.Event.created_at)))
                    return created.replace(tzinfo=UTC).timestamp(), done
            await asyncio.sleep(0.02)
    finally:
        engine.dispose()
    raise RuntimeError(f"only {stored} of {count} answers stored within {timeout} s")


async def run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="push-bench-") as tmp:
        target = targets.CariflexTarget(
            args.backend, args.cariflex, args.log_level, args.pg_admin_dsn, "CARIFLEX-VTN", Path(tmp), 60.0
        )
        endpoints = Endpoints(args.vens)
        runner = await endpoints.start()
        target.start()
        try:
            started = time.monotonic()
            await register(target.url("EiRegisterParty"), endpoints, args.concurrency)
            print(f"registered {args.vens} push VENs in {time.monotonic() - started:.1f} s", flush=True)
            await asyncio.wait_for(endpoints.all_bootstrapped.wait(), args.timeout)
            print(f"bootstrap pushes (oadrRegisterReport) answered after {time.monotonic() - started:.1f} s", flush=True)
            await asyncio.to_thread(_create_event, args.cariflex, target.db_url)
            await asyncio.wait_for(endpoints.all_pushed.wait(), args.timeout)
            created, done = await answered(target, args.vens, args.timeout)
            times = sorted(endpoints.pushed_at.values())
            print()
            machine = f"{platform.machine()}, Python {platform.python_version()}"
            print(f"push of one event to {args.vens} VENs — ours ({args.backend}), {machine}")
            print(f"  first push    {times[0] - created:6.2f} s after the event was stored")
            print(f"  all pushed    {times[-1] - created:6.2f} s   (target < 5 s; first→last {times[-1] - times[0]:.2f} s)")
            print(f"  all answered  {done - created:6.2f} s   (every optIn stored by the VTN)")
            print(f"  VTN RSS       {target.server.rss_mb() if target.server else 0:.0f} MB")
            print("  openleadr     n/a: OpenADRServer has no push mode")
        finally:
            target.stop()
            await runner.cleanup()


def _create_event(cariflex: str, db_url: str) -> None:
    import subprocess

    cmd = [cariflex, "event", "create", "--db", db_url, "--program", PROGRAM, "--signal", "SIMPLE:level", "--value", "1"]
    cmd += ["--intervals", "4", "--interval-duration", "PT15M", "--start-in", "PT1H"]
    subprocess.run(cmd, cwd=targets.REPO_ROOT, capture_output=True, text=True, timeout=120, check=True)  # our own CLI


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--vens", type=int, default=1000)
    p.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    p.add_argument("--concurrency", type=int, default=50, help="concurrent registrations")
    p.add_argument("--timeout", type=float, default=120.0, help="seconds allowed for each step")
    p.add_argument("--cariflex", default=str(Path(sys.executable).parent / "cariflex"))
    p.add_argument("--log-level", default="WARNING")
    p.add_argument("--pg-admin-dsn", default="postgresql://postgres@127.0.0.1:5432/postgres")
    asyncio.run(run(p.parse_args()))


if __name__ == "__main__":
    main()

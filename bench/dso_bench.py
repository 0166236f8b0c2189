"""DSO API (OpenADR 3) benchmark: events accepted per second with 96 intervals each, and the time from a
3.x event create to its 2.0b delivery at the next poll. Prints numbers; asserts nothing.

    .venv/bin/python bench/dso_bench.py [--events 2000] [--concurrency 8] [--deliveries 30] [--db sqlite|URL]

Runs `cariflex vtn` as its own process on a fresh store (SQLite by default), creates a DSO client with
`cariflex dso client add`, takes a token, then:
1. POSTs --events PRICE events of 96 quarter hours (one day each, on successive days, so none overlap)
   to /openadr3/3.1.0/events with --concurrency requests in flight (targeting a group with no VEN);
2. registers one 2.0b VEN, and --deliveries times: creates an event, polls (oadrPoll, back to back)
   until the event is distributed, acknowledges it; reports create→available-at-poll times.
"""

import argparse
import asyncio
import base64
import re
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp

from mapping.oadr import model as m
from mapping.oadr.decode import decode, open_envelope
from mapping.oadr.encode import encode
from mapping.oadr.timefmt import format_datetime
from mapping.oadr.xsd import parse_xml
from vtn.banner import base_url_in

ROOT = Path(__file__).resolve().parents[1]
CARIFLEX = str(Path(sys.executable).parent / "cariflex")
CONFIG = """
[vtn]
port = 0
poll_interval = "PT10S"
[store]
url = "{url}"
[[programs]]
program_id = "price"
market_context = "http://cariflex.mq/programs/price"
[groups]
bulk = ["no-such-site"]
"""


def event_body(start: datetime, targets: list[str], intervals: int = 96) -> dict:
    """A 3.1 PRICE event of `intervals` quarter hours."""
    return {
        "programID": "price",
        "targets": targets,
        "intervalPeriod": {"start": format_datetime(start), "duration": "PT15M"},
        "payloadDescriptors": [
            {"objectType": "EVENT_PAYLOAD_DESCRIPTOR", "payloadType": "PRICE", "units": "KWH", "currency": "EUR"}
        ],
        "intervals": [{"id": i, "payloads": [{"type": "PRICE", "values": [0.10 + (i % 8) / 100]}]} for i in range(intervals)],
    }


async def post_xml(session: aiohttp.ClientSession, url: str, message: m.Message) -> m.Message | None:
    async with session.post(url, data=encode(message), headers={"Content-Type": "application/xml"}) as response:
        body = await response.read()
    return decode(open_envelope(parse_xml(body))) if body else None


async def throughput(session: aiohttp.ClientSession, api: str, headers: dict, count: int, concurrency: int) -> None:
    base = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=30)
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(count):
        queue.put_nowait(i)
    statuses: dict[int, int] = {}

    async def worker() -> None:
        while not queue.empty():
            i = queue.get_nowait()
            async with session.post(
                f"{api}/events", json=event_body(base + timedelta(days=i), ["bulk"]), headers=headers
            ) as response:
                await response.read()
                statuses[response.status] = statuses.get(response.status, 0) + 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    print(f"create: {count} events x 96 intervals in {elapsed:.1f} s = {count / elapsed:.0f} events/s (statuses {statuses})")


async def delivery(session: aiohttp.ClientSession, base: str, api: str, headers: dict, rounds: int) -> None:
    oadr = f"{base}/OpenADR2/Simple/2.0b"
    reg = await post_xml(
        session,
        f"{oadr}/EiRegisterParty",
        m.CreatePartyRegistration(
            request_id="r",
            profile_name="2.0b",
            transport_name="simpleHttp",
            report_only=False,
            xml_signature=False,
            ven_name="bench-ven",
        ),
    )
    ven_id = reg.ven_id
    while not isinstance(await post_xml(session, f"{oadr}/OadrPoll", m.Poll(ven_id=ven_id)), m.Response):
        pass
    times, polls = [], []
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3000)
    for k in range(rounds):
        body = event_body(start + timedelta(days=k), ["bench-ven"], intervals=4)
        t0 = time.perf_counter()
        async with session.post(f"{api}/events", json=body, headers=headers) as response:
            created = await response.json()
        count = 0
        while True:
            count += 1
            reply = await post_xml(session, f"{oadr}/OadrPoll", m.Poll(ven_id=ven_id))
            if isinstance(reply, m.DistributeEvent) and any(e.event_id == created["id"] for e in reply.events):
                break
        times.append(time.perf_counter() - t0)
        polls.append(count)
        ack = m.CreatedEvent(
            response=m.EiResponse(request_id=reply.request_id),
            ven_id=ven_id,
            event_responses=tuple(
                m.EventResponse(200, "OK", reply.request_id, e.event_id, e.modification_number, "optIn") for e in reply.events
            ),
        )
        await post_xml(session, f"{oadr}/EiEvent", ack)
    ms = sorted(t * 1000 for t in times)
    p95 = ms[int(0.95 * (len(ms) - 1))]
    print(
        f"create → available at the VEN's next poll: median {statistics.median(ms):.1f} ms, p95 {p95:.1f} ms, "
        f"max {ms[-1]:.1f} ms over {rounds} events (polls needed: max {max(polls)})"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--deliveries", type=int, default=30)
    parser.add_argument("--db", default="sqlite", help="sqlite (a fresh file) or a SQLAlchemy URL of an empty database")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/vtn.db" if args.db == "sqlite" else args.db
        (Path(folder) / "config").mkdir()
        config = Path(folder) / "config" / "vtn.toml"
        config.write_text(CONFIG.format(url=url))
        added = subprocess.run(
            [CARIFLEX, "dso", "client", "add", "bench", "--config", str(config)], capture_output=True, text=True, check=True
        )
        secret = re.search(r"client_secret=(\S+)", added.stdout).group(1)
        vtn = subprocess.Popen(
            [CARIFLEX, "vtn", "--config", str(config)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        )
        try:
            base = base_url_in(vtn.stdout.readline())
            if base is None:
                raise SystemExit("cariflex vtn did not start; run it by hand with the same config to see why")
            api = f"{base}/openadr3/3.1.0"
            async with aiohttp.ClientSession() as session:
                basic = base64.b64encode(f"bench:{secret}".encode()).decode()
                form = {"grant_type": "client_credentials"}
                async with session.post(f"{api}/auth/token", data=form, headers={"Authorization": f"Basic {basic}"}) as response:
                    headers = {"Authorization": f"Bearer {(await response.json())['access_token']}"}
                print(f"store: {url.split('@')[-1]}")
                await throughput(session, api, headers, args.events, args.concurrency)
                await delivery(session, base, api, headers, args.deliveries)
        finally:
            vtn.terminate()
            vtn.wait(timeout=30)


if __name__ == "__main__":
    asyncio.run(main())

"""Poll-burst benchmark (issue 22, finding 3): many pull VENs polling steadily, then two bursts — every VEN
fetching a queued oadrRegisterReport (and answering oadrRegisteredReport), then one event for all of them
(each answering oadrCreatedEvent). Prints p50/p99 poll latency per phase; asserts nothing.

    .venv/bin/python bench/poll_burst_bench.py [--vens 1000] [--interval 5] [--only ours-sqlite,openleadr]

(bench/fanout_bench.py is the other fan-out bench: one DSO event for 10,000 of 100,000 VENs over nginx.)

1. The VTN in its own process (ours on SQLite or PostgreSQL; stock openleadr 0.5.36 for a ratio); --vens
   VENs registered over HTTP and their queues drained.
2. Every simulated VEN (asyncio tasks in this process, one keep-alive connection pool) polls every
   --interval seconds, their phases spread evenly over the interval (open loop: a slow answer does not
   delay the next VEN's poll). A VEN answers what a poll hands it as a real VEN does: oadrRegisterReport →
   oadrRegisteredReport (EiReport), oadrDistributeEvent → oadrCreatedEvent optIn (EiEvent); those answers
   are timed apart from the polls.
3. Phases: `steady` (--steady seconds); `register-report burst` — an oadrRegisterReport queued for every
   VEN at once (ours: one store transaction, as `cariflex vens reregister` queues; openleadr has no queue
   of VTN-initiated report messages: n/a); `event burst` — one event for all VENs (ours: `cariflex event
   create`, no target; openleadr: `POST /bench/add-events`, one event per VEN). A burst phase covers the
   polls issued from its trigger for --burst-window seconds (default two intervals: every VEN has polled
   at least once after the trigger, and the answers have come back).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from xml.sax.saxutils import escape

import aiohttp
import oadr_bodies
import registration
import targets
from lxml import etree

sys.path.insert(0, str(targets.REPO_ROOT))

HEADERS = {"Content-Type": "application/xml"}
ALL_TARGETS = ["ours-sqlite", "ours-postgresql", "openleadr"]
EI = f"{{{oadr_bodies.EI_NS}}}"
PYLD = f"{{{oadr_bodies.PYLD_NS}}}"
OADR = f"{{{oadr_bodies.OADR_NS}}}"


def parse_args() -> argparse.Namespace:
    """Command-line options."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--only", default=",".join(ALL_TARGETS), help=f"comma-separated, of {ALL_TARGETS}")
    p.add_argument("--vens", type=int, default=1000)
    p.add_argument("--interval", type=float, default=5.0, help="each VEN's poll interval, seconds")
    p.add_argument("--steady", type=float, default=20.0, help="seconds of steady state measured")
    p.add_argument("--burst-window", type=float, default=None, help="seconds measured from a burst's trigger (2 intervals)")
    p.add_argument("--timeout", type=float, default=30.0, help="per-request timeout, seconds")
    p.add_argument("--cariflex", default=str(Path(sys.executable).parent / "cariflex"))
    p.add_argument("--pg-admin-dsn", default="postgresql://postgres@127.0.0.1:5432/postgres")
    p.add_argument("--log-level", default="WARNING")
    p.add_argument("--json", type=Path, help="also write the numbers to this file")
    return p.parse_args()


# --- bodies -----------------------------------------------------------------------------------------


def registered_report(ven_id: str, request_id: str) -> str:
    """oadrRegisteredReport answering the VTN's oadrRegisterReport `request_id`."""
    return oadr_bodies._envelope(
        '<oadr:oadrRegisteredReport ei:schemaVersion="2.0b"><ei:eiResponse><ei:responseCode>200</ei:responseCode>'
        f"<ei:responseDescription>OK</ei:responseDescription><pyld:requestID>{escape(request_id)}</pyld:requestID>"
        f"</ei:eiResponse><ei:venID>{escape(ven_id)}</ei:venID></oadr:oadrRegisteredReport>"
    )


def created_event(ven_id: str, request_id: str, events: list[tuple[str, str]]) -> str:
    """oadrCreatedEvent optIn for each (eventID, modificationNumber)."""
    responses = "".join(
        "<ei:eventResponse><ei:responseCode>200</ei:responseCode><ei:responseDescription>OK</ei:responseDescription>"
        f"<pyld:requestID>{escape(request_id)}</pyld:requestID><ei:qualifiedEventID><ei:eventID>{escape(event_id)}</ei:eventID>"
        f"<ei:modificationNumber>{mod}</ei:modificationNumber></ei:qualifiedEventID><ei:optType>optIn</ei:optType>"
        "</ei:eventResponse>"
        for event_id, mod in events
    )
    return oadr_bodies._envelope(
        '<oadr:oadrCreatedEvent ei:schemaVersion="2.0b"><pyld:eiCreatedEvent><ei:eiResponse>'
        "<ei:responseCode>200</ei:responseCode><ei:responseDescription>OK</ei:responseDescription><pyld:requestID/>"
        f"</ei:eiResponse><ei:eventResponses>{responses}</ei:eventResponses><ei:venID>{escape(ven_id)}</ei:venID>"
        "</pyld:eiCreatedEvent></oadr:oadrCreatedEvent>"
    )


def events_of(body: bytes) -> tuple[str, list[tuple[str, str]]]:
    """(requestID, [(eventID, modificationNumber)]) of an oadrDistributeEvent."""
    root = etree.fromstring(body)
    request_id = root.findtext(f".//{PYLD}requestID") or ""
    found = []
    for event in root.iter(f"{OADR}oadrEvent"):
        descriptor = event.find(f".//{EI}eventDescriptor")
        if descriptor is not None:
            found.append((descriptor.findtext(f"{EI}eventID") or "", descriptor.findtext(f"{EI}modificationNumber") or "0"))
    return request_id, found


# --- the simulated VENs -----------------------------------------------------------------------------


@dataclass
class Sample:
    """One request: when it was sent (monotonic), how long it took, what it was and what came back."""

    sent: float
    latency: float
    kind: str
    answer: str


@dataclass
class Fleet:
    """The simulated VENs and what they saw."""

    base: str
    ven_ids: list[str]
    interval: float
    timeout: float
    samples: list[Sample] = field(default_factory=list)
    errors: int = 0
    #: per answer kind, when (monotonic) each VEN last got one
    got: dict[str, dict[str, float]] = field(default_factory=lambda: defaultdict(dict))

    async def _post(self, session: aiohttp.ClientSession, service: str, body: str, kind: str) -> bytes | None:
        sent = time.monotonic()
        try:
            async with session.post(f"{self.base}/{service}", data=body.encode(), headers=HEADERS) as response:
                payload = await response.read()
                status = response.status
        except (aiohttp.ClientError, TimeoutError):
            self.errors += 1
            self.samples.append(Sample(sent, time.monotonic() - sent, kind, "error"))
            return None
        answer = (oadr_bodies.message_type(payload) or f"HTTP {status}") if status == 200 else f"HTTP {status}"
        self.samples.append(Sample(sent, time.monotonic() - sent, kind, answer))
        return payload if status == 200 else None

    async def _answer(self, session: aiohttp.ClientSession, ven_id: str, payload: bytes) -> None:
        kind = oadr_bodies.message_type(payload)
        now = time.monotonic()
        if kind == "oadrRegisterReport":
            self.got[kind][ven_id] = now
            request_id = etree.fromstring(payload).findtext(f".//{PYLD}requestID") or "req"
            await self._post(session, "EiReport", registered_report(ven_id, request_id), "oadrRegisteredReport")
        elif kind == "oadrDistributeEvent":
            self.got[kind][ven_id] = now
            request_id, events = events_of(payload)
            if events:
                await self._post(session, "EiEvent", created_event(ven_id, request_id, events), "oadrCreatedEvent")

    async def _ven(self, session: aiohttp.ClientSession, ven_id: str, offset: float, stop: asyncio.Event) -> None:
        await asyncio.sleep(offset)
        next_at = time.monotonic()
        pending: set[asyncio.Task[None]] = set()

        async def once() -> None:
            payload = await self._post(session, "OadrPoll", oadr_bodies.poll(ven_id), "oadrPoll")
            if payload is not None:
                await self._answer(session, ven_id, payload)

        while not stop.is_set():
            task = asyncio.create_task(once())  # open loop: the next poll does not wait for this one
            pending.add(task)
            task.add_done_callback(pending.discard)
            next_at += self.interval
            try:
                await asyncio.wait_for(stop.wait(), max(0.0, next_at - time.monotonic()))
            except TimeoutError:
                pass
        await asyncio.gather(*pending, return_exceptions=True)

    async def run(self, stop: asyncio.Event) -> None:
        """Poll until `stop` is set."""
        connector = aiohttp.TCPConnector(limit=0, force_close=False)
        async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=self.timeout)) as session:
            step = self.interval / len(self.ven_ids)
            await asyncio.gather(*(self._ven(session, v, i * step, stop) for i, v in enumerate(self.ven_ids)))


# --- triggers ---------------------------------------------------------------------------------------


def queue_register_reports(db_url: str, ven_ids: list[str]) -> None:
    """Queue the VTN's oadrRegisterReport for every VEN in one store transaction (the VTN reads the change feed)."""
    from vtn.domain import OutboxKind
    from vtn.store import repository as repo
    from vtn.store.worker import StoreWorker

    def enqueue_all(session: object) -> None:
        now = datetime.now(UTC)
        for ven_id in ven_ids:
            repo.enqueue(session, ven_id, OutboxKind.REGISTER_REPORT, {}, now)  # type: ignore[arg-type]

    store = StoreWorker(db_url.replace("postgresql+psycopg", "postgresql+psycopg"), origin="bench")
    try:
        store.call_sync(enqueue_all)
    finally:
        store.close()


# --- phases -----------------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float | None:
    """The q-quantile (0–1) of `values`, None when empty."""
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=1000, method="inclusive")[min(998, max(0, round(q * 1000) - 1))]


def phase_row(fleet: Fleet, target: str, phase: str, start: float, end: float, burst_kind: str | None) -> dict:
    """p50/p99 of the polls sent in [start, end), the answers' p99, and how the burst's item went out."""
    polls = [s for s in fleet.samples if s.kind == "oadrPoll" and start <= s.sent < end]
    answers = [s for s in fleet.samples if s.kind != "oadrPoll" and start <= s.sent < end]
    latencies = sorted(s.latency * 1000 for s in polls)
    row = {
        "target": target,
        "phase": phase,
        "polls": len(polls),
        "poll_p50_ms": percentile(latencies, 0.5),
        "poll_p99_ms": percentile(latencies, 0.99),
        "poll_max_ms": latencies[-1] if latencies else None,
        "answers": len(answers),
        "answer_p99_ms": percentile(sorted(s.latency * 1000 for s in answers), 0.99),
        "errors": sum(1 for s in polls + answers if s.answer == "error" or s.answer.startswith("HTTP")),
    }
    if burst_kind is not None:
        times = [t for t in fleet.got[burst_kind].values() if t >= start]
        row["delivered"] = len(times)
        row["last_delivered_s"] = (max(times) - start) if times else None
    return row


async def measure(target: targets.Target, args: argparse.Namespace, ven_ids: list[str]) -> list[dict]:
    """Run the fleet through the three phases; one row per phase."""
    fleet = Fleet(f"http://{targets.HOST}:{target.port}{targets.SERVICE_PREFIX}", ven_ids, args.interval, args.timeout)
    stop = asyncio.Event()
    running = asyncio.create_task(fleet.run(stop))
    window = args.burst_window or 2 * args.interval
    rows = []
    await asyncio.sleep(args.interval)  # every VEN has started polling
    start = time.monotonic()
    await asyncio.sleep(args.steady)
    rows.append(phase_row(fleet, target.name, "steady", start, time.monotonic(), None))
    print(f"  {target.name}: steady done", flush=True)
    if isinstance(target, targets.CariflexTarget):
        start = time.monotonic()
        await asyncio.to_thread(queue_register_reports, target.db_url, ven_ids)
        await asyncio.sleep(window)
        rows.append(phase_row(fleet, target.name, "register-report burst", start, start + window, "oadrRegisterReport"))
        print(f"  {target.name}: register-report burst done", flush=True)
        await asyncio.sleep(args.interval)  # the tail of the burst is not the next phase's
    start = time.monotonic()
    await asyncio.to_thread(target.create_events)
    await asyncio.sleep(window)
    rows.append(phase_row(fleet, target.name, "event burst", start, start + window, "oadrDistributeEvent"))
    print(f"  {target.name}: event burst done", flush=True)
    stop.set()
    await running
    rss = target.server.rss_mb() if target.server else None
    for row in rows:
        row["rss_mb"] = rss
    return rows


def make_target(name: str, args: argparse.Namespace, workdir: Path) -> targets.Target:
    """The target called `name`."""
    if name == "openleadr":
        return targets.OpenLeadrTarget("CARIFLEX-VTN", workdir, 60.0)
    backend = name.removeprefix("ours-")
    return targets.CariflexTarget(backend, args.cariflex, args.log_level, args.pg_admin_dsn, "CARIFLEX-VTN", workdir, 60.0)


def fmt(value: float | int | None, spec: str) -> str:
    """A table cell."""
    return "-" if value is None else format(value, spec)


def table(rows: list[dict]) -> str:
    """The result table, with each burst's p99 over the same target's steady p99."""
    steady = {r["target"]: r["poll_p99_ms"] for r in rows if r["phase"] == "steady"}
    head = f"{'target':>16}  {'phase':>22}  {'polls':>6}  {'p50 ms':>8}  {'p99 ms':>8}  {'max ms':>8}  {'p99/steady':>10}  "
    head += f"{'answers p99':>11}  {'delivered':>9}  {'last s':>6}  {'errors':>6}"
    lines = [head, "-" * len(head)]
    for r in rows:
        ratio = r["poll_p99_ms"] / steady[r["target"]] if r["poll_p99_ms"] and steady.get(r["target"]) else None
        lines.append(
            f"{r['target']:>16}  {r['phase']:>22}  {r['polls']:>6}  {fmt(r['poll_p50_ms'], '.1f'):>8}  "
            f"{fmt(r['poll_p99_ms'], '.1f'):>8}  {fmt(r['poll_max_ms'], '.0f'):>8}  {fmt(ratio, '.1f'):>10}  "
            f"{fmt(r['answer_p99_ms'], '.1f'):>11}  {fmt(r.get('delivered'), 'd'):>9}  "
            f"{fmt(r.get('last_delivered_s'), '.1f'):>6}  {r['errors']:>6}"
        )
    return "\n".join(lines)


async def bench_one(name: str, args: argparse.Namespace, workdir: Path) -> list[dict]:
    """Start one target, register, measure, stop."""
    target = make_target(name, args, workdir)
    target.start()
    try:
        url = target.url("EiRegisterParty")
        ven_ids = await registration.register_vens(url, args.vens, 50, args.timeout, name)
        await registration.drain_polls(target.url("OadrPoll"), ven_ids, 50, args.timeout, name)
        return await measure(target, args, ven_ids)
    finally:
        target.stop()


def main() -> int:
    """Run every chosen target in turn and print the table."""
    args = parse_args()
    names = [n for n in args.only.split(",") if n]
    unknown = set(names) - set(ALL_TARGETS)
    if unknown:
        raise SystemExit(f"unknown target(s) {sorted(unknown)}; of {ALL_TARGETS}")
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="poll-burst-") as tmp:
        for name in names:
            print(f"{name}: {args.vens} VENs polling every {args.interval:g} s", flush=True)
            rows += asyncio.run(bench_one(name, args, Path(tmp)))
    print(table(rows))
    if args.json:
        meta = {"vens": args.vens, "interval_s": args.interval, "steady_s": args.steady, "at": datetime.now(UTC).isoformat()}
        args.json.write_text(json.dumps({"meta": meta, "rows": rows}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

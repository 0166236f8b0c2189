"""Register benchmark VENs over HTTP and sanity-check single responses."""

from __future__ import annotations

import asyncio
import time
import urllib.error
import urllib.request
from collections import Counter

import aiohttp
import oadr_bodies
from lxml import etree

HEADERS = {"Content-Type": "application/xml"}


async def _register_one(session: aiohttp.ClientSession, url: str, index: int, vtn_id: str | None) -> str:
    body = oadr_bodies.create_party_registration(f"bench-ven-{index:06d}", f"bench-reg-{index}")
    async with session.post(url, data=body.encode(), headers=HEADERS) as resp:
        payload = await resp.read()
        if resp.status != 200:
            raise RuntimeError(f"registration HTTP {resp.status}: {payload[:300]!r}")
    ven_id, _registration_id = oadr_bodies.parse_registration(payload)
    if vtn_id is not None:
        got = etree.fromstring(payload).findtext(f".//{{{oadr_bodies.EI_NS}}}vtnID")
        if got != vtn_id:
            raise RuntimeError(f"expected vtnID {vtn_id!r}, server said {got!r}")
    return ven_id


async def register_vens(
    url: str,
    count: int,
    concurrency: int,
    timeout: float,
    label: str,
    vtn_id: str | None = None,
) -> list[str]:
    """Register ``count`` VENs with bounded concurrency; return their venIDs.

    Prints progress roughly every tenth of the way. ``vtn_id``, when given, is
    checked against the vtnID of every response.
    """
    ven_ids: list[str] = [""] * count
    next_index = 0
    done = 0
    step = max(1, count // 10)
    started = time.monotonic()

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal next_index, done
        while next_index < count:
            index = next_index
            next_index += 1
            ven_ids[index] = await _register_one(session, url, index, vtn_id)
            done += 1
            if done % step == 0 or done == count:
                rate = done / max(1e-9, time.monotonic() - started)
                print(f"  {label}: registered {done}/{count} ({rate:.0f}/s)", flush=True)

    client_timeout = aiohttp.ClientTimeout(total=timeout)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(timeout=client_timeout, connector=connector) as session:
        workers = [worker(session) for _ in range(min(concurrency, count))]
        await asyncio.gather(*workers)
    if len(set(ven_ids)) != count:
        raise RuntimeError("server handed out duplicate venIDs")
    return ven_ids


async def drain_polls(
    url: str, ven_ids: list[str], concurrency: int, timeout: float, label: str, max_polls: int = 5
) -> Counter[str]:
    """Poll every VEN until it gets a plain oadrResponse (at most ``max_polls`` times).

    A VTN may queue messages for new VENs (e.g. its own oadrRegisterReport);
    they must be delivered before measuring "empty" polls. Returns how many
    messages of each type were drained; raises if a VEN's queue never empties.
    """
    drained: Counter[str] = Counter()
    semaphore = asyncio.Semaphore(concurrency)

    async def drain_one(session: aiohttp.ClientSession, ven_id: str) -> None:
        async with semaphore:
            for _ in range(max_polls):
                async with session.post(url, data=oadr_bodies.poll(ven_id).encode(), headers=HEADERS) as resp:
                    kind = oadr_bodies.message_type(await resp.read())
                if kind == "oadrResponse":
                    return
                drained[str(kind)] += 1
        raise RuntimeError(f"VEN {ven_id} still had messages queued after {max_polls} polls: {dict(drained)}")

    async with aiohttp.ClientSession(
        timeout=aiohttp.ClientTimeout(total=timeout), connector=aiohttp.TCPConnector(limit=concurrency)
    ) as session:
        await asyncio.gather(*(drain_one(session, ven_id) for ven_id in ven_ids))
    summary = ", ".join(f"{count} {kind}" for kind, count in sorted(drained.items())) or "nothing"
    print(f"  {label}: drained queued messages before measuring: {summary}", flush=True)
    return drained


def post(url: str, body: str, timeout: float = 30.0) -> tuple[int, bytes]:
    """POST one XML body synchronously; return (status, body)."""
    req = urllib.request.Request(url, data=body.encode(), headers=HEADERS, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def check_response(url: str, body: str, expect_type: str, expect_intervals: int | None = None) -> str:
    """POST ``body`` once and verify HTTP 200, message type and responseCode.

    Returns the message type; raises RuntimeError describing any mismatch.
    """
    status, payload = post(url, body)
    kind = oadr_bodies.message_type(payload)
    code = oadr_bodies.response_code(payload)
    problem = None
    if status != 200:
        problem = f"HTTP {status}"
    elif kind != expect_type:
        problem = f"got {kind}, expected {expect_type}"
    elif code != 200:
        problem = f"responseCode {code}"
    elif expect_intervals is not None:
        root = etree.fromstring(payload)
        intervals = len(list(root.iter("{*}interval")))
        if intervals != expect_intervals:
            problem = f"{intervals} intervals, expected {expect_intervals}"
    if problem:
        raise RuntimeError(f"{url}: {problem}; body: {payload[:500]!r}")
    return kind

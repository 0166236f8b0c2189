"""The benchmark VENs' report set-up over HTTP: register reports, acknowledge the request.

After registration (and draining the poll queue), every VEN sends oadrRegisterReport
with its TELEMETRY_USAGE metadata; the VTN answers oadrRegisteredReport carrying an
oadrReportRequest for it, which the VEN acknowledges with oadrCreatedReport.
"""

from __future__ import annotations

import asyncio
import time

import aiohttp
import oadr_bodies
import report_bodies

HEADERS = {"Content-Type": "application/xml"}


async def _post(session: aiohttp.ClientSession, url: str, body: str) -> bytes:
    async with session.post(url, data=body.encode(), headers=HEADERS) as resp:
        payload = await resp.read()
        if resp.status != 200:
            raise RuntimeError(f"HTTP {resp.status} from {url}: {payload[:300]!r}")
    return payload


async def _subscribe_one(session: aiohttp.ClientSession, url: str, ven_id: str) -> report_bodies.Subscription:
    answer = await _post(session, url, report_bodies.register_report(ven_id))
    request_id, specifier = report_bodies.parse_registered_report(answer)
    ack = await _post(session, url, report_bodies.created_report(ven_id, request_id))
    kind, code = oadr_bodies.message_type(ack), oadr_bodies.response_code(ack)
    if kind != "oadrResponse" or code != 200:
        raise RuntimeError(f"oadrCreatedReport answered {kind} (responseCode {code}): {ack[:300]!r}")
    return report_bodies.Subscription(ven_id, request_id, specifier)


async def subscribe_all(
    url: str, ven_ids: list[str], concurrency: int, timeout: float, label: str
) -> list[report_bodies.Subscription]:
    """Register TELEMETRY_USAGE for every VEN at EiReport ``url``; return the VTN's requests, in VEN order."""
    subs: list[report_bodies.Subscription | None] = [None] * len(ven_ids)
    semaphore = asyncio.Semaphore(concurrency)
    done = 0
    step = max(1, len(ven_ids) // 5)
    started = time.monotonic()

    async def one(session: aiohttp.ClientSession, index: int) -> None:
        nonlocal done
        async with semaphore:
            subs[index] = await _subscribe_one(session, url, ven_ids[index])
        done += 1
        if done % step == 0 or done == len(ven_ids):
            rate = done / max(1e-9, time.monotonic() - started)
            print(f"  {label}: reports registered for {done}/{len(ven_ids)} VENs ({rate:.0f}/s)", flush=True)

    async with aiohttp.ClientSession(
        timeout=aiohttp.ClientTimeout(total=timeout), connector=aiohttp.TCPConnector(limit=concurrency)
    ) as session:
        await asyncio.gather(*(one(session, i) for i in range(len(ven_ids))))
    result = [s for s in subs if s is not None]
    if len({s.report_request_id for s in result}) != len(ven_ids):
        raise RuntimeError("the VTN handed out duplicate reportRequestIDs")
    return result

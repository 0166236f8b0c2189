"""Stop the VTN process at any moment and start it again: registrations, events, modification
numbers, responses, reported data and opts are all still there (a real `cariflex vtn` process, SQLite and PostgreSQL)."""

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest

from mapping.oadr import model as m
from tests.support.oadr_client import RawClient
from tests.support.reports import opt_event, register_reports, update
from tests.support.vtn_process import wait_base_url

pytestmark = pytest.mark.external  # a `cariflex vtn` process, stopped and started again

ROOT = Path(__file__).resolve().parents[1]
CARIFLEX = [sys.executable, "-m", "cariflex.cli"]


def _cli(*args: str) -> str:
    done = subprocess.run([*CARIFLEX, *args], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


async def _start_vtn(db_url: str) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen(
        [*CARIFLEX, "vtn", "--db", db_url, "--port", "0"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    return process, await asyncio.wait_for(asyncio.to_thread(wait_base_url, process), timeout=30)


def _stop(process: subprocess.Popen, sig: int) -> None:
    process.send_signal(sig)
    process.wait(timeout=30)


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "sigkill"])
async def test_nothing_is_lost_across_a_restart(db_url, stop_signal):
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    process, url = await _start_vtn(db_url)
    try:
        async with aiohttp.ClientSession() as session:
            client = RawClient(session, url)
            reg = await client.register("site-restart")
            created = _cli(
                "event",
                "create",
                "--db",
                db_url,
                "--program",
                "http://cariflex.mq/programs/test",
                "--values",
                "1,2,3",
                "--start-in",
                "PT1H",
            )
            event_id = created.split('"event_id": "')[1].split('"')[0]
            _cli("event", "modify", "--db", db_url, event_id, "--values", "3,2,1")
            for _ in range(50):  # the running VTN picks the CLI's changes up from the change feed
                reply = await client.poll(reg.ven_id)
                if isinstance(reply, m.DistributeEvent) and reply.events[0].modification_number == 1:
                    break
                await asyncio.sleep(0.1)
            assert isinstance(reply, m.DistributeEvent) and reply.events[0].modification_number == 1
            await client.ack(reg.ven_id, reply.events)
            registered = await client.send("EiReport", register_reports(reg.ven_id))
            assert registered.report_requests, "config/vtn.toml asks for TELEMETRY_USAGE"
            stored = await client.send("EiReport", update(reg.ven_id, registered.report_requests[0], [[7.5, -1.0, 2.0]]))
            assert stored.response.code == 200
            opt = await client.send("EiOpt", opt_event(reg.ven_id, "opt-restart", reply.events[0]))
            assert opt.response.code == 200
    finally:
        _stop(process, stop_signal)

    process, url = await _start_vtn(db_url)
    try:
        async with aiohttp.ClientSession() as session:
            client = RawClient(session, url)
            after = await client.request_events(reg.ven_id)  # still registered: same venID works
            assert [(e.event_id, e.modification_number) for e in after.events] == [(event_id, 1)]
            assert [i.value for i in after.events[0].signals[0].intervals] == [3, 2, 1]
            again = await client.register("site-restart", registration_id=reg.registration_id, ven_id=reg.ven_id)
            assert (again.ven_id, again.registration_id) == (reg.ven_id, reg.registration_id)
    finally:
        _stop(process, signal.SIGTERM)
    shown = json.loads(_cli("event", "show", "--db", db_url, event_id))
    assert [(x["opt_type"], x["modification_number"]) for x in shown["responses"]] == [("optIn", 1)]
    assert [o["opt_id"] for o in shown["opts"]] == ["opt-restart"]
    if stop_signal == signal.SIGTERM:  # first-delivery times are flushed every 2 s and at a clean stop
        assert {(d["ven_id"], d["modification_number"]) for d in shown["deliveries"]} >= {(reg.ven_id, 1)}
    data = json.loads(_cli("reports", "data", "--db", db_url, "--ven", reg.ven_id, "--format", "json"))
    assert sorted(p["value"] for p in data) == [-1.0, 2.0, 7.5]

"""Achieved curtailment end to end: meter samples over MQTT (a real Mosquitto) → our VEN's baseline and
x-ACHIEVED_CURTAILMENT report → our VTN's store → its JSON/CSV API — checked against a hand computation.

The event is back-dated: its 15-minute intervals are over when the test starts, and the meter
samples carry the matching past timestamps (within the VEN's history), so the test need not wait
for real quarter hours to pass.
"""

import csv
import io
import json
import shutil
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest

from mapping.grid import floor_slot
from tests.support.eventually import eventually
from tests.support.mqtt import (
    BROKER_PORT,
    ensure_machine_broker,
    free_port,
    kill,
    payload,
    port_open,
    private_broker_conf,
    publish,
    start_broker,
)
from tests.support.ui import add_user, login
from tests.support.ven_harness import ven_config
from tests.support.vtn_harness import VtnUnderTest, config_for_tests, running_vtn
from ven.config import MqttSettings
from ven.runner import VenProcess
from ven.telemetry_mqtt import MqttTelemetrySource
from vtn.admin import reports as report_admin
from vtn.store import curtailment_repository as curtailed
from vtn.store import report_repository as reports

pytestmark = pytest.mark.external  # Mosquitto (the machine's, and brokers of its own)

Q = timedelta(minutes=15)
MINUTE = timedelta(minutes=1)
FAST_RECONNECT = dict(min_backoff=timedelta(milliseconds=200), max_backoff=timedelta(seconds=1))


@asynccontextmanager
async def _site_ven(vtn: VtnUnderTest, tmp_path, port: int, name: str | None = None) -> AsyncIterator[tuple[VenProcess, str]]:
    """One site VEN reading its meter over MQTT from the broker on `port`, registered with its reports."""
    name = name or f"site-curt-{uuid.uuid4().hex[:8]}"
    config = ven_config(f"{vtn.base_url}/OpenADR2/Simple/2.0b", tmp_path / "ven.db", name, asset={"kind": "battery"})
    mqtt = replace(MqttSettings(port=port), **FAST_RECONNECT)  # type: ignore[arg-type]
    process = VenProcess(replace(config, mqtt=mqtt, report_duration=timedelta(hours=3)))
    await process.start(spread_first_polls=False)
    try:
        source = process.source
        assert isinstance(source, MqttTelemetrySource)
        await eventually(source.connected.is_set, what="the MQTT subscription")
        site = process.vens[name].site
        await eventually(lambda: site.registration is not None, what="registration")
        ven_id = site.ven_id

        async def offers() -> bool:
            return ven_id in await vtn.ctx.store.call(curtailed.offering, [ven_id])

        await eventually(offers, timeout=15, what="the VEN's x-ACHIEVED_CURTAILMENT report registered at the VTN")
        yield process, name
    finally:
        await process.stop()


def _meter(name: str, start: datetime, minutes: int, kw: float) -> list[tuple[str, bytes]]:
    """One meter sample a minute from `start` for `minutes` minutes, all `kw`."""
    return [(f"cariflex/{name}/meter/power", payload(kw, at=start + i * MINUTE)) for i in range(minutes)]


async def _get(vtn: VtnUnderTest, path: str) -> tuple[int, str, str]:
    """(status, content type, body) of a GET on the VTN by a logged-in viewer."""
    await add_user(vtn.admin_store, "viewer", "viewer")  # idempotent: saving the same user again
    session = await login(vtn.base_url, "viewer")
    try:
        async with session.get(f"{vtn.base_url}{path}") as response:
            return response.status, response.content_type, await response.text()
    finally:
        await session.close()


async def _json(vtn: VtnUnderTest, event_id: str) -> dict:
    status, _type, body = await _get(vtn, f"/ui/events/{event_id}/curtailment.json")
    assert status == 200, body
    return json.loads(body)


async def _reported(vtn: VtnUnderTest, event_id: str, intervals: int) -> dict:
    async def arrived() -> bool:
        found = await _json(vtn, event_id)
        return bool(found["sites"]) and any(i["measured_kw"] is not None for i in found["sites"][0]["intervals"])

    await eventually(arrived, timeout=30, what="the VEN's curtailment report at the VTN")
    found = await _json(vtn, event_id)
    assert len(found["sites"]) == 1 and len(found["sites"][0]["intervals"]) == intervals
    return found


def _vtn_config(sqlite_url: str):
    return config_for_tests(sqlite_url, poll_interval=timedelta(seconds=1), curtailment_after=timedelta(0))


async def test_an_events_achieved_curtailment_matches_a_hand_computation(sqlite_url, tmp_path):
    """Baseline (rectangle, 60 min): 10 kW for 30 min then 12 kW → 11 kW. The event limits import to
    7 kW for two intervals → 4 kW requested in each. The meter reads 6 kW then 9 kW → achieved 5 and
    2 kW; ratio (5 + 2) / (4 + 4) = 0.875."""
    ensure_machine_broker()
    async with running_vtn(_vtn_config(sqlite_url)) as vtn, _site_ven(vtn, tmp_path, BROKER_PORT) as (_process, name):
        t0 = floor_slot(datetime.now(UTC)) - 3 * Q
        await publish(
            _meter(name, t0 - 4 * Q, 30, 10.0)
            + _meter(name, t0 - 2 * Q, 30, 12.0)
            + _meter(name, t0, 15, 6.0)
            + _meter(name, t0 + Q, 15, 9.0)
        )
        event = await vtn.create_event(
            values=(7.0, 7.0), signal=("x-IMPORT_CAPACITY_LIMIT", "setpoint"), start_in=t0 - vtn.ctx.now()
        )
        found = await _reported(vtn, event.event_id, 2)
        site = found["sites"][0]
        assert site["ven_name"] == name
        got = [(i["baseline_kw"], i["measured_kw"], i["achieved_kw"], i["requested_kw"], i["quality"]) for i in site["intervals"]]
        # this VTN holds no meter data of the site (no load curve, no TELEMETRY_USAGE asked): the VEN's figures stand
        # in, flagged claimed, and the site is not final; the VEN's baseline is its claim
        assert not site["final"] and [i["ven_baseline_kw"] for i in site["intervals"]] == [pytest.approx(11.0)] * 2
        assert got == [
            (pytest.approx(11.0), pytest.approx(6.0), pytest.approx(5.0), pytest.approx(4.0), "claimed"),
            (pytest.approx(11.0), pytest.approx(9.0), pytest.approx(2.0), pytest.approx(4.0), "claimed"),
        ]
        assert site["ratio"] == pytest.approx(0.875) and found["ratio"] == pytest.approx(0.875)
        assert [i["start"] for i in site["intervals"]] == [
            t0.isoformat().replace("+00:00", "Z"),
            (t0 + Q).isoformat().replace("+00:00", "Z"),
        ]
        assert [i["achieved_kw"] for i in found["total"]] == [pytest.approx(5.0), pytest.approx(2.0)]

        status, content_type, body = await _get(vtn, f"/ui/events/{event.event_id}/curtailment.csv")
        assert (status, content_type) == (200, "text/csv")
        rows = [(r["ven_name"], float(r["achieved_kw"])) for r in csv.DictReader(io.StringIO(body))]
        assert rows == [(name, 5.0), (name, 2.0), ("total", 5.0), ("total", 2.0)]

        status, _type, body = await _get(vtn, f"/ui/vens/{site['ven_id']}/curtailment.json")
        events = json.loads(body)["events"]
        assert status == 200 and [e["event_id"] for e in events] == [event.event_id]
        assert events[0]["ratio"] == pytest.approx(0.875)

        status, _type, body = await _get(vtn, "/ui/events/no-such-event/curtailment.json")
        assert status == 404 and "event_id" in body
        status, _type, body = await _get(vtn, "/ui/vens/no-such-ven/curtailment.json")
        assert status == 404 and "ven_id" in body
        async with aiohttp.ClientSession() as anonymous:
            async with anonymous.get(
                f"{vtn.base_url}/ui/events/{event.event_id}/curtailment.csv", allow_redirects=False
            ) as reply:
                assert reply.status == 303 and "/ui/login" in reply.headers["Location"]


@pytest.mark.skipif(shutil.which("mosquitto") is None, reason="needs the mosquitto binary")
async def test_a_broker_restart_mid_event_leaves_flagged_gaps_not_invented_values(sqlite_url, tmp_path):
    """Interval 1 is fully metered; the broker dies and what interval 2's meter publishes is lost; the
    VEN reconnects to the restarted broker and gets the last 8 minutes of interval 3. Interval 2 is
    missing (no value), interval 3 is measured from what arrived and flagged partial."""
    port = free_port()
    conf = private_broker_conf(tmp_path, port)
    brokers = [start_broker(conf)]
    try:
        await eventually(lambda: port_open(port), what="the private broker")
        async with running_vtn(_vtn_config(sqlite_url)) as vtn, _site_ven(vtn, tmp_path, port) as (process, name):
            source = process.source
            assert isinstance(source, MqttTelemetrySource)
            t0 = floor_slot(datetime.now(UTC)) - 4 * Q
            await publish(_meter(name, t0 - 4 * Q, 60, 10.0) + _meter(name, t0, 15, 7.0), port)
            await eventually(lambda: source.stored == 75, what="the samples before the restart")
            kill(brokers[-1])
            await eventually(lambda: not source.connected.is_set(), what="the VEN to see the broker gone")
            brokers.append(start_broker(conf))
            await eventually(lambda: source.connections == 2, timeout=20, what="the VEN back on the restarted broker")
            await publish(_meter(name, t0 + 2 * Q + 7 * MINUTE, 8, 4.0), port)
            await eventually(lambda: source.stored == 83, what="the samples after the restart")
            event = await vtn.create_event(
                values=(8.0, 8.0, 8.0), signal=("x-IMPORT_CAPACITY_LIMIT", "setpoint"), start_in=t0 - vtn.ctx.now()
            )
            found = await _reported(vtn, event.event_id, 3)
            got = [(i["measured_kw"], i["achieved_kw"], i["quality"]) for i in found["sites"][0]["intervals"]]
            assert got == [
                (pytest.approx(7.0), pytest.approx(3.0), "claimed"),
                (None, None, "missing"),
                (pytest.approx(4.0), pytest.approx(6.0), "claimed+partial"),
            ]
            second = found["sites"][0]["intervals"][1]
            assert second["baseline_kw"] == pytest.approx(10.0) and second["requested_kw"] == pytest.approx(2.0)
            assert found["total"][1]["quality"] == "missing" and found["total"][1]["achieved_kw"] is None
            # the ratio counts only intervals with both values: (3 + 6) / (2 + 2)
            assert found["ratio"] == pytest.approx(9.0 / 4.0)
    finally:
        for broker in brokers:
            if broker.poll() is None:
                kill(broker)


async def test_a_history_report_for_a_past_window_gives_what_the_meter_said(sqlite_url, tmp_path):
    """HISTORY_USAGE for 30 minutes that ended 30 minutes ago, every 5 minutes: each value is the meter
    sample at that instant (published over MQTT back then), nothing for the minutes outside it."""
    ensure_machine_broker()
    async with running_vtn(_vtn_config(sqlite_url)) as vtn, _site_ven(vtn, tmp_path, BROKER_PORT) as (process, name):
        start = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(hours=1)
        await publish([(f"cariflex/{name}/meter/power", payload(float(i), at=start + i * MINUTE)) for i in range(60)])
        source = process.source
        assert isinstance(source, MqttTelemetrySource)
        await eventually(lambda: source.stored == 60, what="the meter samples")
        ven_id = process.vens[name].site.ven_id
        request = await vtn.admin(
            report_admin.request_report,
            ven_id,
            "HISTORY_USAGE",
            vtn.ctx.now(),
            granularity=timedelta(minutes=5),
            start=start,
            duration=timedelta(minutes=30),
        )

        async def history() -> list[dict]:
            points = await vtn.ctx.store.call(reports.points, ven_id=ven_id, report_name="HISTORY_USAGE")
            return [p for p in points if p["report_request_id"] == request.report_request_id]

        await eventually(lambda: _count(history(), 6), timeout=20, what="the history report")
        assert [(p["dtstart"], p["value"]) for p in await history()] == [
            ((start + i * 5 * MINUTE).isoformat().replace("+00:00", "Z"), float(i * 5)) for i in range(6)
        ]


async def _count(points, wanted: int) -> bool:  # noqa: ANN001
    return len(await points) >= wanted

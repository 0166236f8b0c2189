"""The demo's site simulator (demo/simulator.py) against a real Mosquitto: its devices take the schedules dispatched on
their setpoint topics (retained: one published before it connects too) and acknowledge them, follow them at the meter,
refuse what they cannot read; steps start every `every` (the wait after a step is what is left of the period)."""

import asyncio
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiomqtt
import pytest

from demo.simulator import SimulatedSite, SiteSimulator, new_site, step
from mapping.dispatch import ack_topic, decode_ack, encode_setpoints, new_setpoints, setpoint_topic
from mapping.grid import QUARTER, floor_slot
from tests.support.mqtt import free_port, kill, port_open, private_broker_conf, start_broker
from ven.config import SiteConfig

pytestmark = pytest.mark.external  # a Mosquitto broker of its own

NOW = datetime(2026, 11, 26, 22, 0, tzinfo=UTC)


def _storage_sites(count: int) -> list[SimulatedSite]:
    configs = [
        SiteConfig(name=f"site-{n:02}", ven_name=f"site-{n:02}", asset={"kind": "battery", "power_kw": 50.0})
        for n in range(count)
    ]
    return [new_site(config) for config in configs]


def test_a_schedule_becomes_the_one_in_force_and_is_acknowledged_and_unreadable_ones_are_refused() -> None:
    sites = _storage_sites(2)
    simulator = SiteSimulator(sites, 1883)
    first = new_setpoints("site-01", NOW, NOW, [-5.0, -4.0])
    topic, body = simulator.take_setpoints(setpoint_topic("site-01", "battery"), encode_setpoints(first)) or ("", b"")
    assert topic == ack_topic("site-01", "battery") and decode_ack(body).schedule_id == first.schedule_id
    assert decode_ack(body).status == "accepted"
    assert simulator.scheduled_kw(NOW + QUARTER) == {"site-01": -4.0}
    # a newer schedule replaces the one in force whole
    simulator.take_setpoints(setpoint_topic("site-01", "battery"), encode_setpoints(new_setpoints("site-01", NOW, NOW, [1.0])))
    assert simulator.scheduled_kw(NOW) == {"site-01": 1.0} and simulator.scheduled_kw(NOW + QUARTER) == {}
    # unreadable, or for no site of its own: nothing changes, nothing to answer
    assert simulator.take_setpoints(setpoint_topic("site-01", "battery"), b"{}") is None and simulator.refused == 1
    assert simulator.take_setpoints(setpoint_topic("site-99", "battery"), encode_setpoints(first)) is None
    assert simulator.scheduled_kw(NOW) == {"site-01": 1.0}


def test_a_device_obeys_its_schedule_at_the_meter_and_pv_is_curtailed_by_it() -> None:
    [battery] = _storage_sites(1)
    free = json.loads(dict(step(battery, NOW, 0.25, timedelta(0)))["cariflex/site-00/meter/power"])["value"]
    battery.schedule = new_setpoints("site-00", NOW, floor_slot(NOW), [-3.0])
    held = json.loads(dict(step(battery, NOW, 0.25, timedelta(0)))["cariflex/site-00/meter/power"])["value"]
    assert held == pytest.approx(free - 3.0, abs=0.01)  # idle without one; discharging 3 kW with it
    noon = datetime(2026, 11, 26, 16, 0, tzinfo=UTC)  # 12:00 in Martinique
    roof = new_site(
        SiteConfig(name="roof", ven_name="roof", latitude=14.6, longitude=-61.0, asset={"kind": "pv", "peak_kw": 5.0})
    )
    sunny = json.loads(dict(step(roof, noon, 0.25, timedelta(0)))["cariflex/roof/pv/power"])["value"]
    roof.schedule = new_setpoints("roof", noon, floor_slot(noon), [-1.0])
    capped = json.loads(dict(step(roof, noon, 0.25, timedelta(0)))["cariflex/roof/pv/power"])["value"]
    assert sunny < -2.0 and capped == pytest.approx(-1.0)


@pytest.fixture
def broker_port(tmp_path: Path) -> Iterator[int]:
    """A Mosquitto of the test's own."""
    port = free_port()
    broker = start_broker(private_broker_conf(tmp_path, port))
    try:
        deadline = time.monotonic() + 30
        while not port_open(port):
            assert broker.poll() is None and time.monotonic() < deadline, "mosquitto did not start"
            time.sleep(0.05)
        yield port
    finally:
        kill(broker)


async def test_a_step_slower_than_the_period_is_followed_at_once(broker_port: int) -> None:
    """The wait after a step is `every` less the step's time: a step that takes the whole period leaves no wait.
    (Waiting a full `every` after each step, three steps would take three minutes.)"""
    every = timedelta(minutes=1)
    calls = [0]

    def clock() -> float:  # each step takes the whole period on the simulator's clock
        calls[0] += 1
        return calls[0] * every.total_seconds()

    simulator = SiteSimulator(_storage_sites(1), broker_port, every=every)
    stop = asyncio.Event()
    running = asyncio.create_task(simulator.run(lambda: datetime.now(UTC), stop, clock=clock))
    try:
        await asyncio.wait_for(_steps(simulator, running, 3), 30)
    finally:
        stop.set()
        await asyncio.wait_for(running, 30)


async def test_the_running_simulator_takes_retained_and_live_schedules_and_acknowledges_them(broker_port: int) -> None:
    sites = _storage_sites(2)
    early = new_setpoints("site-00", NOW, NOW, [-2.0])
    async with aiomqtt.Client("127.0.0.1", broker_port) as vens:
        await vens.subscribe(ack_topic("+", "battery"), qos=1)
        await vens.publish(setpoint_topic("site-00", "battery"), encode_setpoints(early), qos=1, retain=True)  # before it runs
        simulator = SiteSimulator(sites, broker_port, every=timedelta(seconds=1))
        stop = asyncio.Event()
        running = asyncio.create_task(simulator.run(lambda: datetime.now(UTC), stop))
        try:
            live = new_setpoints("site-01", NOW, NOW, [3.0])
            acks = []
            async with asyncio.timeout(20):
                async for message in vens.messages:
                    acks.append(decode_ack(bytes(message.payload)))  # type: ignore[arg-type]
                    if len(acks) == 1:
                        await vens.publish(setpoint_topic("site-01", "battery"), encode_setpoints(live), qos=1)
                    if len(acks) == 2:
                        break
            assert {a.schedule_id for a in acks} == {early.schedule_id, live.schedule_id}
            assert simulator.scheduled_kw(NOW) == {"site-00": -2.0, "site-01": 3.0} and simulator.taken == 2
            await _steps(simulator, running, 2)
        finally:
            stop.set()
            await asyncio.wait_for(running, 30)


async def _steps(simulator: SiteSimulator, running: asyncio.Task, count: int) -> None:
    """Until the simulator has published `count` steps (raises what stopped it early)."""
    while simulator.steps < count:
        if running.done():
            running.result()
            pytest.fail(f"the simulator stopped after {simulator.steps} steps")
        await asyncio.sleep(0.01)

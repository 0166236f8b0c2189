"""The demo's site simulator (demo/simulator.py) against FlexMeasures-like schedule readers and a real Mosquitto:
schedules read concurrently but bounded, one warning per step for the reads that failed, and steps that start every
`every` (the wait after a step is what is left of the period)."""

import asyncio
import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from demo.simulator import SCHEDULE_READS_AT_ONCE, SimulatedSite, SiteSimulator, new_site
from tests.support.mqtt import free_port, kill, port_open, private_broker_conf, start_broker
from ven.config import SiteConfig

pytestmark = pytest.mark.external  # a Mosquitto broker of its own

NOW = datetime(2026, 11, 26, 22, 0, tzinfo=UTC)


def _storage_sites(count: int) -> list[SimulatedSite]:
    sites = []
    for n in range(count):
        config = SiteConfig(name=f"site-{n:02}", ven_name=f"site-{n:02}", asset={"kind": "battery", "power_kw": 50.0})
        sites.append(new_site(config, power_sensor=100 + n))
    return sites


async def test_schedules_are_read_concurrently_at_most_a_few_at_once() -> None:
    in_flight, most, release, reached = 0, 0, asyncio.Event(), asyncio.Event()

    async def reader(sensor: int, start: datetime, end: datetime) -> list[float | None]:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        if in_flight == SCHEDULE_READS_AT_ONCE:
            reached.set()
        await release.wait()
        in_flight -= 1
        return [float(sensor), None]

    assert 1 < SCHEDULE_READS_AT_ONCE < 30  # concurrent, but not all 30 at once
    simulator = SiteSimulator(_storage_sites(30), 1883, reader)
    refresh = asyncio.create_task(simulator.refresh_schedules(NOW))
    try:
        await asyncio.wait_for(reached.wait(), 10)  # one after the other, the second read would never start
        for _ in range(10):  # let any read that could start do so
            await asyncio.sleep(0)
        assert most == SCHEDULE_READS_AT_ONCE
        release.set()
        assert await asyncio.wait_for(refresh, 10) == 30
    finally:
        refresh.cancel()
    assert most == SCHEDULE_READS_AT_ONCE
    assert simulator.scheduled_kw(NOW) == {f"site-{n:02}": float(100 + n) for n in range(30)}


async def test_failed_reads_keep_the_last_schedule_and_are_logged_once_per_step(caplog: pytest.LogCaptureFixture) -> None:
    async def reader(sensor: int, start: datetime, end: datetime) -> list[float | None]:
        if sensor % 3 == 0:
            raise ConnectionError("FlexMeasures is restarting")
        return [1.0]

    sites = _storage_sites(30)
    for site in sites:
        site.schedule[NOW] = -5.0
    simulator = SiteSimulator(sites, 1883, reader)
    with caplog.at_level(logging.WARNING, logger="cariflex.demo.simulator"):
        assert await simulator.refresh_schedules(NOW) == 20
    warnings = [r.getMessage() for r in caplog.records if r.name == "cariflex.demo.simulator"]
    assert len(warnings) == 1, warnings
    assert warnings[0].startswith("could not read 10 of 30 schedules from FlexMeasures (first: site-02: ConnectionError:")
    assert {kw for kw in simulator.scheduled_kw(NOW).values()} == {1.0, -5.0}
    assert sum(kw == -5.0 for kw in simulator.scheduled_kw(NOW).values()) == 10


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
    """The wait after a step is `every` less the step's time: a read that takes the whole period leaves no wait.
    (Waiting a full `every` after each step, three steps would take three minutes.)"""
    every = timedelta(minutes=1)
    clock = [0.0]

    async def slow_reader(sensor: int, start: datetime, end: datetime) -> list[float | None]:
        clock[0] += every.total_seconds()  # FlexMeasures took the whole period (on the simulator's clock)
        return [None]

    simulator = SiteSimulator(_storage_sites(1), broker_port, slow_reader, every=every)
    stop = asyncio.Event()
    running = asyncio.create_task(simulator.run(lambda: datetime.now(UTC), stop, clock=lambda: clock[0]))
    try:
        await asyncio.wait_for(_steps(simulator, running, 3), 30)
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

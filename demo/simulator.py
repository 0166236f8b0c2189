"""The demo's site simulator: the 40 sites' meters over MQTT, as the platform's IoT layer would publish them.

Each site is a household (evening peak) plus its asset: PV following the sun at the site's place,
a battery, or an EV behind a charger (one-way or V2G) that arrives in the late afternoon. Storage
devices follow their FlexMeasures schedule — read from the device's power sensor, where FlexMeasures
writes it — for every 15-minute slot that has one, and otherwise charge as they would uncontrolled.

Published (the VENs' topic scheme, docs/ven.md): `cariflex/<site>/meter/power` (kW, import positive)
for every site, `cariflex/<site>/pv/power` (production negative) and `cariflex/<site>/<kind>/soc` (%).
A storage device's own power is not published: the VENs would forward it to the same FlexMeasures
sensor the schedule is written to, and the simulator reads the schedule there.

The scenario clock may run ahead of the wall clock by a fixed offset (`--fast` puts the evening
peak now); sample timestamps are always wall-clock UTC.
"""

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import aiomqtt

from demo.world import MARTINIQUE, EvSession, Storage, ev_session, household_kw
from mapping.grid import QUARTER, floor_slot
from mapping.solar import pv_kw
from ven.api import SiteConfig, storage_capacity_kwh

log = logging.getLogger("cariflex.demo.simulator")

#: reads a device's scheduled power (kW) per 15-minute slot over [start, end) — None where none
ScheduleReader = Callable[[int, datetime, datetime], Awaitable[list[float | None]]]
#: how far ahead the schedules are read
SCHEDULE_HORIZON = timedelta(hours=4)
#: schedule reads in flight at once (30 devices: a few rounds, without queueing 30 requests on FlexMeasures)
SCHEDULE_READS_AT_ONCE = 8


@dataclass
class SimulatedSite:
    """One site's state between two steps."""

    config: SiteConfig
    storage: Storage | None = None
    #: the EV's current session (EV chargers), None for other kinds
    session: EvSession | None = None
    #: the FlexMeasures sensor the device's schedule is written to (storage kinds)
    power_sensor: int | None = None
    #: scheduled power by slot start (UTC)
    schedule: dict[datetime, float] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        """The asset kind (pv, battery, evse, v2g)."""
        return str(self.config.asset.get("kind", "battery"))


def new_site(config: SiteConfig, power_sensor: int | None) -> SimulatedSite:
    """A site at the start of the simulation: a battery half full; EVs not yet plugged in."""
    site = SimulatedSite(config=config, power_sensor=power_sensor)
    power = float(config.asset.get("power_kw", 22.0))
    if site.kind == "battery":
        capacity = storage_capacity_kwh(config)
        # without a dispatched schedule a home battery idles (the forecast a request is measured against assumes
        # so): a top-up of its own would sit in the baseline hour before the event as if it were the household's
        site.storage = Storage(capacity, capacity / 2, power, power, default_charge_kw=0.0)
    return site


def _current_session(site: str, local: datetime) -> EvSession:
    today = ev_session(site, local)
    return today if local >= today.arrival else ev_session(site, local - timedelta(days=1))


def _payload(value: float, unit: str, at: datetime) -> bytes:
    return json.dumps({"ts": at.isoformat().replace("+00:00", "Z"), "value": round(value, 3), "unit": unit}).encode()


def step(site: SimulatedSite, at: datetime, hours: float, scenario_offset: timedelta) -> list[tuple[str, bytes]]:
    """Advance one site by `hours` from UTC `at` and return what its meters publish for that moment."""
    config, name = site.config, site.config.name
    local = (at + scenario_offset).astimezone(MARTINIQUE)
    messages: list[tuple[str, bytes]] = []
    meter = household_kw(name, config.base_load_kw, local)
    if site.kind == "pv":
        produced = pv_kw(
            float(config.asset.get("peak_kw", 5.0)), at + scenario_offset, config.latitude or 14.64, config.longitude or -61.02
        )
        meter -= produced
        messages.append((f"cariflex/{name}/pv/power", _payload(-produced, "kW", at)))
    elif site.kind in ("evse", "v2g"):
        session = _current_session(name, local)
        if session != site.session:  # a new arrival: the EV plugged in with its own charge
            site.session = session
            capacity = storage_capacity_kwh(config)
            power = float(config.asset.get("power_kw", 22.0))
            discharge = power if site.kind == "v2g" else 0.0
            site.storage = Storage(capacity, capacity * session.soc_on_arrival, power, discharge, default_charge_kw=power)
        if not session.plugged(local):
            site.storage = None
    if site.storage is not None:
        power = site.storage.power_for(site.schedule.get(floor_slot(at)), hours)
        site.storage.run(power, hours)
        meter += power
        messages.append((f"cariflex/{name}/{site.kind}/soc", _payload(site.storage.soc_percent, "%", at)))
    messages.append((f"cariflex/{name}/meter/power", _payload(meter, "kW", at)))
    return messages


class SiteSimulator:
    """Publishes the sites' meters at a fixed step; refreshes the storage schedules from FlexMeasures."""

    def __init__(
        self,
        sites: list[SimulatedSite],
        mqtt_port: int,
        read_schedule: ScheduleReader | None,
        scenario_offset: timedelta = timedelta(0),
        every: timedelta = timedelta(seconds=10),
        mqtt_host: str = "127.0.0.1",
    ) -> None:
        self.sites = sites
        self.mqtt_host, self.mqtt_port = mqtt_host, mqtt_port
        self.read_schedule = read_schedule
        self.scenario_offset = scenario_offset
        self.every = every
        self.published = 0
        #: steps published by `run`
        self.steps = 0

    async def _publish(self, client: aiomqtt.Client, messages: list[tuple[str, bytes]]) -> None:
        for topic, body in messages:
            await client.publish(topic, body, qos=1)
        self.published += len(messages)

    async def backfill(self, start: datetime, end: datetime, every: timedelta = timedelta(minutes=1)) -> int:
        """Publish [start, end) minute by minute at once: the meters' history before the demo began
        (the baselines need the hour before an event). Returns the number of messages."""
        count = 0
        async with aiomqtt.Client(self.mqtt_host, self.mqtt_port, timeout=30) as client:
            at = start
            while at < end:
                messages = [m for site in self.sites for m in step(site, at, every / timedelta(hours=1), self.scenario_offset)]
                await self._publish(client, messages)
                count += len(messages)
                at += every
        return count

    async def refresh_schedules(self, now: datetime) -> int:
        """Read every storage device's schedule from the current slot on, SCHEDULE_READS_AT_ONCE at a time; returns
        how many slots have one. A failed read keeps the device's schedule known so far (FlexMeasures busy or
        restarting); the failures are logged once for the step, not once per device."""
        if self.read_schedule is None:
            return 0
        read_schedule = self.read_schedule
        start = floor_slot(now)
        storage = [site for site in self.sites if site.power_sensor is not None]
        gate = asyncio.Semaphore(SCHEDULE_READS_AT_ONCE)

        async def read(site: SimulatedSite) -> list[float | None]:
            assert site.power_sensor is not None
            async with gate:
                return await read_schedule(site.power_sensor, start, start + SCHEDULE_HORIZON)

        results = await asyncio.gather(*(read(site) for site in storage), return_exceptions=True)
        found = 0
        failed: list[tuple[str, BaseException]] = []
        for site, result in zip(storage, results, strict=True):
            if isinstance(result, BaseException):
                if not isinstance(result, Exception):
                    raise result  # KeyboardInterrupt and the like are not a failed read
                failed.append((site.config.name, result))
                continue
            for index, value in enumerate(result):
                if value is not None:
                    site.schedule[start + index * QUARTER] = value
                    found += 1
        if failed:
            name, exc = failed[0]
            log.warning(
                "could not read %d of %d schedules from FlexMeasures (first: %s: %s: %s); keeping the last ones",
                len(failed),
                len(storage),
                name,
                type(exc).__name__,
                exc,
            )
        return found

    async def run(self, now: Callable[[], datetime], stop: asyncio.Event, clock: Callable[[], float] | None = None) -> None:
        """Publish a step every `every` until `stop` is set; schedules are re-read each step. The wait after a step is
        `every` less the step's own time (reading FlexMeasures, publishing) on `clock` (seconds, default the event
        loop's monotonic clock), so that steps start every `every`."""
        last = now() - self.every  # the backfill ended now: the first step stands for one period
        elapsed_clock = clock or asyncio.get_running_loop().time
        async with aiomqtt.Client(self.mqtt_host, self.mqtt_port, timeout=30) as client:
            while not stop.is_set():
                began = elapsed_clock()
                at = now()
                # the time that really passed (a step may take longer than `every`), not `every`
                hours = max(at - last, timedelta(0)) / timedelta(hours=1)
                last = at
                await self.refresh_schedules(at)
                await self._publish(client, [m for site in self.sites for m in step(site, at, hours, self.scenario_offset)])
                self.steps += 1
                try:
                    pause = max(0.0, self.every.total_seconds() - (elapsed_clock() - began))
                    await asyncio.wait_for(stop.wait(), timeout=pause)
                except TimeoutError:
                    pass

    def scheduled_kw(self, slot: datetime) -> dict[str, float]:
        """The scheduled device power (kW) of every site that has a schedule for `slot`."""
        return {site.config.name: site.schedule[slot] for site in self.sites if slot in site.schedule}

"""The demo's site simulator: the 40 sites' meters over MQTT, as the platform's IoT layer would publish them.

Each site is a household (evening peak) plus its asset: PV following the sun at the site's place,
a battery, or an EV behind a charger (one-way or V2G) that arrives in the late afternoon. The devices obey
only what the VENs dispatch: each follows the schedule in force on its setpoint topic
(`cariflex/<site>/<kind>/setpoint`, retained, docs/ven.md "Dispatch") for every 15-minute slot it covers,
acknowledging each new one; elsewhere a battery idles, an EV charges as it would uncontrolled and PV
produces what the sun gives (a negative setpoint caps its production).

Published (the VENs' topic scheme, docs/ven.md): `cariflex/<site>/meter/power` (kW, import positive)
for every site, `cariflex/<site>/pv/power` (production negative) and `cariflex/<site>/<kind>/soc` (%).
A storage device's own power is not published (the meter shows it).

The scenario clock may run ahead of the wall clock by a fixed offset (`--fast` puts the evening
peak now); sample timestamps are always wall-clock UTC.
"""

import asyncio
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

import aiomqtt

from demo.world import MARTINIQUE, EvSession, Storage, ev_session, household_kw
from mapping.dispatch import Ack, ack_topic, decode_setpoints, encode_ack, setpoint_topic
from mapping.refusal import Refused
from mapping.solar import pv_kw
from ven.api import SiteConfig, storage_capacity_kwh

log = logging.getLogger("cariflex.demo.simulator")


class Dispatched(Protocol):
    """What a device was dispatched: MQTT setpoints (mapping.dispatch.Setpoints) or its S2 RM's instructions."""

    def at(self, when: datetime) -> float | None:
        """The power asked at `when` (kW, charging positive; PV: a production cap); None where nothing is asked."""


@dataclass
class SimulatedSite:
    """One site's state between two steps."""

    config: SiteConfig
    storage: Storage | None = None
    #: the EV's current session (EV chargers), None for other kinds
    session: EvSession | None = None
    #: what it was dispatched: the MQTT schedule in force (the last one), or its S2 RM's instructions
    schedule: Dispatched | None = None
    #: the storage device's power over the last step (kW, charging positive): what its RM measures
    device_kw: float = 0.0

    def setpoint(self, at: datetime) -> float | None:
        """What the schedule in force says for `at` (kW, charging positive); None without one."""
        return self.schedule.at(at) if self.schedule is not None else None

    @property
    def kind(self) -> str:
        """The asset kind (pv, battery, evse, v2g)."""
        return str(self.config.asset.get("kind", "battery"))


def new_site(config: SiteConfig) -> SimulatedSite:
    """A site at the start of the simulation: a battery half full; EVs not yet plugged in."""
    site = SimulatedSite(config=config)
    if site.kind == "battery":
        # without a dispatched schedule a home battery idles (the forecast a request is measured against assumes
        # so): a top-up of its own would sit in the baseline hour before the event as if it were the household's
        site.storage = _storage(config, 0.5, discharges=True, charges_unasked=False)
    return site


def _storage(config: SiteConfig, soc_share: float, discharges: bool, charges_unasked: bool) -> Storage:
    """The site's battery or EV with `soc_share` of its capacity, its power, its round trip and its reserve
    (sites.toml): what its RM declares and the device keeps to."""
    device = config.device
    capacity = storage_capacity_kwh(config)
    power = device.power_kw if device is not None else 22.0
    efficiency = (device.roundtrip_efficiency_percent / 100) ** 0.5 if device is not None else 1.0
    # a one-way charger's car is never run down by it: no reserve to keep
    floor = capacity * device.reserve_percent / 100 if device is not None and discharges else 0.0
    return Storage(
        capacity,
        capacity * soc_share,
        power,
        power if discharges else 0.0,
        default_charge_kw=power if charges_unasked else 0.0,
        efficiency=efficiency,
        floor_kwh=floor,
    )


def _current_session(site: str, local: datetime) -> EvSession:
    today = ev_session(site, local)
    return today if local >= today.arrival else ev_session(site, local - timedelta(days=1))


def _payload(value: float, unit: str, at: datetime) -> bytes:
    return json.dumps({"ts": at.isoformat().replace("+00:00", "Z"), "value": round(value, 3), "unit": unit}).encode()


def step(site: SimulatedSite, at: datetime, hours: float, scenario_offset: timedelta) -> list[tuple[str, bytes]]:
    """Advance one site by `hours` from UTC `at` and return what its meters publish for that moment."""
    return advance(site, at, hours, scenario_offset)[1]


def advance(site: SimulatedSite, at: datetime, hours: float, scenario_offset: timedelta) -> tuple[float, list[tuple[str, bytes]]]:
    """Advance one site by `hours` from UTC `at`: its meter's power (kW, import positive) and what its meters publish."""
    config, name = site.config, site.config.name
    local = (at + scenario_offset).astimezone(MARTINIQUE)
    messages: list[tuple[str, bytes]] = []
    meter = household_kw(name, config.base_load_kw, local)
    if site.kind == "pv":
        produced = pv_kw(
            float(config.asset.get("peak_kw", 5.0)), at + scenario_offset, config.latitude or 14.64, config.longitude or -61.02
        )
        cap = site.setpoint(at)
        if cap is not None:  # curtailed: it produces at most what the schedule says (production negative)
            produced = min(produced, max(-cap, 0.0))
        meter -= produced
        messages.append((f"cariflex/{name}/pv/power", _payload(-produced, "kW", at)))
    elif site.kind in ("evse", "v2g"):
        session = _current_session(name, local)
        if session != site.session:  # a new arrival: the EV plugged in with its own charge
            site.session = session
            site.storage = _storage(config, session.soc_on_arrival, discharges=site.kind == "v2g", charges_unasked=True)
        if not session.plugged(local):
            site.storage, site.device_kw = None, 0.0
    if site.storage is not None:
        power = site.storage.power_for(site.setpoint(at), hours)
        site.storage.run(power, hours)
        site.device_kw = power
        meter += power
        messages.append((f"cariflex/{name}/{site.kind}/soc", _payload(site.storage.soc_percent, "%", at)))
    messages.append((f"cariflex/{name}/meter/power", _payload(meter, "kW", at)))
    return meter, messages


class SiteSimulator:
    """Publishes the sites' meters at a fixed step; takes the schedules the VENs dispatch and acknowledges them."""

    def __init__(
        self,
        sites: list[SimulatedSite],
        mqtt_port: int,
        scenario_offset: timedelta = timedelta(0),
        every: timedelta = timedelta(seconds=10),
        mqtt_host: str = "127.0.0.1",
    ) -> None:
        self.sites = sites
        self.mqtt_host, self.mqtt_port = mqtt_host, mqtt_port
        # a device paired over S2 (an s2_token) takes its instructions from its RM (demo/s2_devices.py), not MQTT
        self.by_topic = {setpoint_topic(site.config.name, site.kind): site for site in sites if not site.config.s2_token}
        #: schedules taken (accepted) and refused (a payload the device could not read)
        self.taken = 0
        self.refused = 0
        self.scenario_offset = scenario_offset
        self.every = every
        self.published = 0
        #: steps published by `run`
        self.steps = 0
        #: every meter reading published, by site: (UTC time, kW) — what the meter operator will deliver later
        self.readings: dict[str, list[tuple[datetime, float]]] = {site.config.name: [] for site in sites}
        #: each site's twin that is dispatched nothing (same household, sun and EV sessions) and its meter by site:
        #: what the same site would have done, which the response is measured against (never published)
        self.twins = [new_site(site.config) for site in sites]
        self.uncontrolled: dict[str, list[tuple[datetime, float]]] = {site.config.name: [] for site in sites}

    def _advance_all(self, at: datetime, hours: float) -> list[tuple[str, bytes]]:
        """Every site and its twin one step on, their meter readings kept; the messages to publish."""
        messages: list[tuple[str, bytes]] = []
        for site, twin in zip(self.sites, self.twins, strict=True):
            kw, published = advance(site, at, hours, self.scenario_offset)
            self.readings[site.config.name].append((at, kw))
            messages += published
            self.uncontrolled[twin.config.name].append((at, advance(twin, at, hours, self.scenario_offset)[0]))
        return messages

    def movable(self) -> dict[str, bool]:
        """Whether each site's device can now lower its import: a storage above its reserve that may discharge, or
        one its twin is charging (it may stop). A PV roof, an EV not plugged in, a battery at its reserve: False."""
        found = {}
        for site, twin in zip(self.sites, self.twins, strict=True):
            storage, free = site.storage, twin.storage
            discharges = storage is not None and storage.discharge_kw > 0 and storage.soc_kwh > storage.floor_kwh + 0.1
            charging = storage is not None and free is not None and free.power_for(None, 1 / 60) > 0.1
            found[site.config.name] = discharges or charging
        return found

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
                messages = self._advance_all(at, every / timedelta(hours=1))
                await self._publish(client, messages)
                count += len(messages)
                at += every
        return count

    def take_setpoints(self, topic: str, payload: bytes) -> tuple[str, bytes] | None:
        """Make a dispatched schedule the site's schedule in force; the acknowledgement to publish (None for a
        topic that is no site's, or a payload without a schedule id to answer)."""
        site = self.by_topic.get(topic)
        if site is None:
            return None
        try:
            setpoints = decode_setpoints(payload)
        except Refused as exc:
            self.refused += 1
            log.warning("%s: a schedule the device cannot read (%s): it keeps the one in force", topic, exc)
            return None
        site.schedule = setpoints
        self.taken += 1
        return ack_topic(site.config.name, site.kind), encode_ack(Ack(setpoints.schedule_id, "accepted"))

    async def _follow_setpoints(self, client: aiomqtt.Client) -> None:
        for topic in self.by_topic:
            await client.subscribe(topic, qos=1)
        async for message in client.messages:
            payload = message.payload
            ack = self.take_setpoints(message.topic.value, bytes(payload) if isinstance(payload, bytes | bytearray) else b"")
            if ack is not None:
                await client.publish(*ack, qos=1)

    async def run(self, now: Callable[[], datetime], stop: asyncio.Event, clock: Callable[[], float] | None = None) -> None:
        """Publish a step every `every` until `stop` is set, following the schedules dispatched meanwhile. The wait
        after a step is `every` less the step's own time on `clock` (seconds, default the event loop's monotonic
        clock), so that steps start every `every`."""
        last = now() - self.every  # the backfill ended now: the first step stands for one period
        elapsed_clock = clock or asyncio.get_running_loop().time
        async with aiomqtt.Client(self.mqtt_host, self.mqtt_port, timeout=30) as client:
            following = asyncio.create_task(self._follow_setpoints(client), name="simulator-setpoints")
            try:
                while not stop.is_set():
                    if following.done():
                        following.result()  # the subscription ended: say why rather than step on without it
                    began = elapsed_clock()
                    at = now()
                    # the time that really passed (a step may take longer than `every`), not `every`
                    hours = max(at - last, timedelta(0)) / timedelta(hours=1)
                    last = at
                    await self._publish(client, self._advance_all(at, hours))
                    self.steps += 1
                    try:
                        pause = max(0.0, self.every.total_seconds() - (elapsed_clock() - began))
                        await asyncio.wait_for(stop.wait(), timeout=pause)
                    except TimeoutError:
                        pass
            finally:
                following.cancel()
                await asyncio.gather(following, return_exceptions=True)

    def scheduled_kw(self, slot: datetime) -> dict[str, float]:
        """The power (kW, charging positive) the schedule in force gives every storage device that has one for
        `slot` (a PV roof's is a production cap, not a power it runs at)."""
        found = {site.config.name: site.setpoint(slot) for site in self.sites if site.kind != "pv"}
        return {name: kw for name, kw in found.items() if kw is not None}

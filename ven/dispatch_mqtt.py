"""Setpoints to devices without S2, over MQTT: each FlexMeasures schedule the VEN makes reaches its device.

Topics and payloads: mapping/dispatch.py (docs/ven.md, "Dispatch"). The latest schedule of each device is
published retained at QoS 1, so a device that connects (or reconnects) later gets the schedule in force; one
made while the broker is away is published when it is back. A device that has not acknowledged its latest
schedule within `ack_timeout` counts as not following it: logged once per schedule, counted, and shown by
`following()`.
"""

import asyncio
import logging
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import aiomqtt

from mapping.dispatch import (
    ACK,
    SETPOINT,
    Ack,
    Setpoints,
    ack_topic,
    decode_ack,
    encode_setpoints,
    overdue,
    setpoint_topic,
)
from mapping.refusal import Refused
from ven.config import MqttSettings
from ven.mqtt_link import MqttLink

log = logging.getLogger("cariflex.ven.dispatch")

DEFAULT_ACK_TIMEOUT = timedelta(seconds=60)


@dataclass
class _Device:
    """What was dispatched to one device and what it answered."""

    latest: Setpoints
    published: bool = False
    ack: Ack | None = None
    warned: bool = False
    #: it rejected or ignored a schedule and has accepted none since (carried over to newer schedules: a
    #: device that stays silent does not become "not yet answered" at each new plan)
    failing: bool = False


class MqttDispatcher:
    """Publishes each device's schedule on its setpoint topic and follows the acknowledgements."""

    def __init__(
        self,
        settings: MqttSettings,
        sites: Iterable[str],
        ack_timeout: timedelta = DEFAULT_ACK_TIMEOUT,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.settings = settings
        #: the sites this process hosts: only their acknowledgements are its business
        self.sites = tuple(sites)
        self.ack_timeout = ack_timeout
        self.clock = clock
        #: (site, kind) → its latest schedule and answer
        self.devices: dict[tuple[str, str], _Device] = {}
        self.counters: Counter[str] = Counter()
        #: called with a site's name when its device starts or stops following (the VEN re-plans and tells the VTN)
        self.on_change: Callable[[str], None] | None = None
        self._client: aiomqtt.Client | None = None
        self._link = MqttLink(settings, "mqtt-dispatch", self._session)
        self._watch: asyncio.Task | None = None

    @property
    def connected(self) -> asyncio.Event:
        """Set while connected to the broker."""
        return self._link.connected

    async def start(self) -> None:
        """Connect in the background and watch for overdue acknowledgements."""
        await self._link.start()
        if self._watch is None:
            self._watch = asyncio.create_task(self._watch_acks(), name="mqtt-dispatch-acks")

    async def stop(self) -> None:
        """Disconnect."""
        if self._watch is not None:
            self._watch.cancel()
            await asyncio.gather(self._watch, return_exceptions=True)
            self._watch = None
        await self._link.stop()
        self._client = None

    async def dispatch(self, site: str, kind: str, setpoints: Setpoints) -> None:
        """Make `setpoints` the schedule in force for `site`'s device of `kind`: published now when connected,
        else as soon as the broker is back. A schedule identical to the one in force is not sent again."""
        device = self.devices.get((site, kind))
        if device is not None and device.latest.schedule_id == setpoints.schedule_id:
            return
        self.devices[(site, kind)] = _Device(setpoints, failing=device.failing if device is not None else False)
        await self._publish(site, kind)

    def following(self, site: str, kind: str) -> bool | None:
        """True when the device accepted its latest schedule; False when it rejected it or has not answered
        within the timeout; None while it still may (or when nothing was dispatched to it)."""
        device = self.devices.get((site, kind))
        if device is None:
            return None
        if device.ack is not None:
            return device.ack.status == "accepted"
        return False if device.failing or overdue(device.latest.issued, self.clock(), self.ack_timeout) else None

    def handle_ack(self, topic: str, payload: bytes) -> None:
        """Take one acknowledgement; a malformed one, or one for a schedule no longer in force, is logged and
        dropped."""
        parts = topic.split("/")
        key = (parts[1], parts[2]) if len(parts) == 5 and parts[3:] == [SETPOINT, ACK] else None
        device = self.devices.get(key) if key else None
        try:
            ack = decode_ack(payload)
        except Refused as exc:
            self.counters["bad_ack"] += 1
            log.warning("%s: acknowledgement refused (%s); the device should answer as docs/ven.md shows", topic, exc)
            return
        if device is None or ack.schedule_id != device.latest.schedule_id:
            self.counters["stale_ack"] += 1
            log.info("%s: acknowledgement of schedule %s, which is not the one in force: ignored", topic, ack.schedule_id)
            return
        device.ack = ack
        self.counters[ack.status] += 1
        if ack.status == "rejected":
            log.warning("%s: the device rejected schedule %s: %s", topic, ack.schedule_id, ack.reason or "no reason given")
        self._set_failing(key, ack.status == "rejected")  # type: ignore[arg-type]

    def _set_failing(self, key: tuple[str, str], failing: bool) -> None:
        """Record whether the device follows; tell `on_change` (with the site's name) when that changes."""
        device = self.devices[key]
        if device.failing == failing:
            return
        device.failing = failing
        if self.on_change is not None:
            self.on_change(key[0])

    async def _publish(self, site: str, kind: str) -> None:
        device = self.devices[(site, kind)]
        client = self._client
        if client is None or device.published:
            return
        try:
            await client.publish(setpoint_topic(site, kind), encode_setpoints(device.latest), qos=1, retain=True)
        except aiomqtt.MqttError as exc:
            schedule = device.latest.schedule_id
            log.warning("%s/%s: schedule %s not published (%s); it will be once the broker is back", site, kind, schedule, exc)
            return
        device.published = True
        self.counters["published"] += 1

    async def _session(self, client: aiomqtt.Client) -> None:
        for site in self.sites:
            await client.subscribe(ack_topic(site, "+"), qos=1)
        self._client = client
        try:
            for site, kind in list(self.devices):
                self.devices[(site, kind)].published = False  # the broker may have lost its retained copy
                await self._publish(site, kind)
            async for message in client.messages:
                payload = message.payload
                self.handle_ack(message.topic.value, bytes(payload) if isinstance(payload, bytes | bytearray) else b"")
        finally:
            self._client = None

    async def _watch_acks(self) -> None:
        while True:
            await asyncio.sleep(min(self.ack_timeout.total_seconds() / 4, 15.0))
            for (site, kind), device in self.devices.items():
                if device.ack is None and not device.warned and overdue(device.latest.issued, self.clock(), self.ack_timeout):
                    device.warned = True
                    self.counters["no_ack"] += 1
                    self._set_failing((site, kind), True)
                    log.warning(
                        "%s/%s: no acknowledgement of schedule %s within %s: the device counts as not following it "
                        "(is it connected to the broker and subscribed to %s?)",
                        site,
                        kind,
                        device.latest.schedule_id,
                        self.ack_timeout,
                        setpoint_topic(site, kind),
                    )

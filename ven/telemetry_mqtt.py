"""Site telemetry over MQTT: a `TelemetrySource` fed by the platform's IoT layer.

Topic scheme: `cariflex/<site>/<asset>/<quantity>`, where `<site>` is a site name of sites.toml,
`<asset>` is `meter` (the site's connection point) or the site's asset kind (`battery`, `pv`,
`evse`…), and `<quantity>` is `power`, `soc` or `energy`. Payload (JSON):
`{"ts": "2026-11-26T18:00:00Z", "value": 2.4, "unit": "kW"}`.

| topic                           | unit      | stored as (rID)  |
|---------------------------------|-----------|------------------|
| `cariflex/<site>/meter/power`   | kW or W   | `site-power`     |
| `cariflex/<site>/<kind>/power`  | kW or W   | `asset-power`    |
| `cariflex/<site>/meter/energy`  | kWh       | `site-energy`    |
| `cariflex/<site>/<kind>/soc`    | %         | `asset-soc`      |
| `cariflex/<site>/<kind>/energy` | kWh       | `asset-energy`   |
| `cariflex/<site>/<kind>/override` | bool (0/1) | `asset-override` |

Power is consumption positive (import at the meter, charging for a battery), W converted to kW.
Anything else is counted by reason, logged (at most once a minute per reason) and dropped.
"""

import asyncio
import bisect
import json
import logging
import math
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import aiomqtt

from mapping import curtailment
from mapping.dispatch import TOPIC_ROOT, is_dispatch_topic
from mapping.oadr import report_model as r
from ven.config import MqttSettings, SiteConfig
from ven.hooks import resource_status
from ven.mqtt_link import MqttLink

log = logging.getLogger("cariflex.ven.mqtt")

METER = "meter"
#: quantity → accepted units and their factor to the stored unit (kW, %, kWh)
UNITS: dict[str, dict[str, float]] = {
    "power": {"kW": 1.0, "W": 0.001},
    "soc": {"%": 1.0},
    "energy": {"kWh": 1.0},
    "override": {"bool": 1.0},  # 1: someone took manual control of the device (or the site), 0: released
}
#: a bound on samples per series whatever the history: a chatty device cannot grow memory unboundedly
MAX_SAMPLES = 20_000
LOG_EVERY = 60.0


class Rejected(Exception):
    """A message that is dropped; `reason` is its counter key."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


@dataclass(frozen=True)
class Sample:
    """One validated reading, in its stored unit."""

    site: str
    r_id: str
    at: datetime
    value: float


def r_id_for(asset: str, quantity: str) -> str:
    """The rID a (asset, quantity) pair is stored under: meter → `site-…`, the device → `asset-…`."""
    return f"{'site' if asset == METER else 'asset'}-{quantity}"


def _asset_name(site: SiteConfig) -> str | None:
    kind = site.asset.get("kind")
    return str(kind) if kind else None


def _timestamp(raw: object, now: datetime, max_ahead: timedelta) -> datetime:
    if not isinstance(raw, str):
        raise Rejected("bad_timestamp", f"ts {raw!r} is not a string")
    text = raw.strip()
    try:
        at = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text)
    except ValueError as exc:
        raise Rejected("bad_timestamp", f"ts {raw!r} is not ISO 8601") from exc
    if at.tzinfo is None:
        # a device clock in local time (UTC-4 in Martinique) would shift every sample by hours
        raise Rejected("bad_timestamp", f"ts {raw!r} has no UTC offset")
    at = at.astimezone(UTC)
    if at > now + max_ahead:
        raise Rejected("future_timestamp", f"ts {raw!r} is more than {max_ahead} ahead")
    return at


def parse_message(
    topic: str, payload: bytes, sites: dict[str, SiteConfig], now: datetime, max_ahead: timedelta = timedelta(minutes=5)
) -> Sample:
    """Validate one MQTT message against the topic scheme; raise `Rejected` with the reason."""
    parts = topic.split("/")
    if len(parts) != 4 or parts[0] != TOPIC_ROOT:
        raise Rejected("bad_topic", f"topic {topic!r} is not cariflex/<site>/<asset>/<quantity>")
    _root, site_name, asset, quantity = parts
    site = sites.get(site_name)
    if site is None:
        raise Rejected("unknown_site", f"site {site_name!r} is not hosted here")
    if asset != METER and asset != _asset_name(site):
        raise Rejected("unknown_asset", f"{site_name} has no asset {asset!r}")
    if quantity not in UNITS:
        raise Rejected("unknown_quantity", f"quantity {quantity!r} is not one of {sorted(UNITS)}")
    try:
        body = json.loads(payload)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Rejected("bad_json", f"{topic}: payload is not JSON") from exc
    if not isinstance(body, dict):
        raise Rejected("bad_json", f"{topic}: payload is not a JSON object")
    factor = UNITS[quantity].get(body.get("unit"))  # type: ignore[arg-type]
    if factor is None:
        raise Rejected("bad_unit", f"{topic}: unit {body.get('unit')!r} is not one of {sorted(UNITS[quantity])}")
    value = body.get("value")
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
        raise Rejected("bad_value", f"{topic}: value {value!r} is not a finite number")
    at = _timestamp(body.get("ts"), now, max_ahead)
    return Sample(site_name, r_id_for(asset, quantity), at, float(value) * factor)


class SeriesStore:
    """Per (site, rID): recent samples sorted by time, older than `history` behind the newest dropped."""

    def __init__(self, history: timedelta) -> None:
        self.history = history
        self._series: dict[tuple[str, str], deque[tuple[datetime, float]]] = {}

    def add(self, sample: Sample) -> None:
        """Insert in time order (late messages happen); the same instant again replaces the value."""
        series = self._series.setdefault((sample.site, sample.r_id), deque(maxlen=MAX_SAMPLES))
        entry = (sample.at, sample.value)
        if not series or sample.at > series[-1][0]:
            series.append(entry)
        else:
            index = bisect.bisect_left(series, sample.at, key=lambda e: e[0])
            if index < len(series) and series[index][0] == sample.at:
                series[index] = entry
            else:
                if len(series) == series.maxlen:
                    series.popleft()
                    index = max(index - 1, 0)
                series.insert(index, entry)
        horizon = series[-1][0] - self.history
        while series and series[0][0] < horizon:
            series.popleft()

    def latest(self, site: str, r_id: str, at: datetime) -> tuple[datetime, float] | None:
        """The last sample at or before `at`."""
        series = self._series.get((site, r_id))
        if not series:
            return None
        index = bisect.bisect_right(series, at, key=lambda e: e[0])
        return series[index - 1] if index else None

    def window(self, site: str, r_id: str, start: datetime, end: datetime) -> list[tuple[datetime, float]]:
        """The samples in [start, end), in time order."""
        series = self._series.get((site, r_id))
        if not series:
            return []
        low = bisect.bisect_left(series, start, key=lambda e: e[0])
        high = bisect.bisect_left(series, end, key=lambda e: e[0])
        return [series[i] for i in range(low, high)]

    def size(self, site: str, r_id: str) -> int:
        """How many samples a series holds."""
        return len(self._series.get((site, r_id), ()))


class RateLimitedLog:
    """Logs a warning per reason at most once per `every` seconds, saying how many were not logged: "<what> (<reason>):
    <detail>" on `logger`."""

    def __init__(self, every: float = LOG_EVERY, logger: logging.Logger = log, what: str = "telemetry dropped") -> None:
        self.every = every
        self.logger = logger
        self.what = what
        self._last: dict[str, float] = {}
        self._quiet: Counter[str] = Counter()

    def warn(self, reason: str, detail: str) -> None:
        """Log now, or count for the next line."""
        now = time.monotonic()
        if now - self._last.get(reason, -math.inf) < self.every:
            self._quiet[reason] += 1
            return
        self._last[reason] = now
        quiet, self._quiet[reason] = self._quiet[reason], 0
        self.logger.warning("%s (%s): %s%s", self.what, reason, detail, f" (+{quiet} more not logged)" if quiet else "")


class MqttTelemetrySource:
    """A `TelemetrySource` that subscribes to its sites' topics and keeps their recent samples.

    Subscriptions are `cariflex/<site>/#` per hosted site (a process hosting part of the sites gets
    only its own traffic). Clean session: after a broker restart or a network cut it connects again
    with back-off and subscribes again; what was published meanwhile is lost on purpose — samples
    are only useful live, and a stale reading becomes None instead of being invented."""

    def __init__(
        self,
        settings: MqttSettings,
        sites: Iterable[SiteConfig],
        history: timedelta,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        subscriptions: tuple[str, ...] | None = None,
    ) -> None:
        self.settings = settings
        self.sites = {s.name: s for s in sites}
        self.store = SeriesStore(history)
        self.clock = clock
        self.subscriptions = subscriptions or tuple(f"{TOPIC_ROOT}/{name}/#" for name in self.sites)
        self.received = 0
        self.stored = 0
        self.rejected: Counter[str] = Counter()
        #: called with the topic and the sample of each reading stored (the InfluxDB sink); must not block or raise
        self.on_reading: Callable[[str, Sample], None] | None = None
        self._log = RateLimitedLog()
        self._link = MqttLink(settings, "mqtt-telemetry", self._session)

    # --- TelemetrySource -------------------------------------------------------------------

    def reading(self, site: SiteConfig, r_id: str, at: datetime) -> float | None:
        """The latest sample of `r_id` at or before `at`; None when there is none within the staleness bound."""
        found = self.store.latest(site.name, r_id, at)
        if found is None or at - found[0] > self.settings.staleness:
            return None
        return found[1]

    def status(self, site: SiteConfig, at: datetime) -> r.ResourceStatus:
        """Online while the site meter reports; manual override and state of charge as last published."""
        return resource_status(self, site, at)

    def samples(self, site: SiteConfig, r_id: str, start: datetime, end: datetime) -> list[curtailment.Sample]:
        """What was received for `r_id` in [start, end): gaps (broker down, meter silent) stay gaps."""
        return [curtailment.Sample(at, value) for at, value in self.store.window(site.name, r_id, start, end)]

    # --- intake ----------------------------------------------------------------------------

    @property
    def counters(self) -> dict[str, object]:
        """received, stored, rejected (by reason) and connections so far (for tests and benchmarks)."""
        return {
            "received": self.received,
            "stored": self.stored,
            "rejected": dict(self.rejected),
            "connections": self.connections,
        }

    def handle(self, topic: str, payload: bytes) -> Sample | None:
        """Validate and store one message; a bad one is counted, logged and dropped, never raised. The setpoints the
        VEN dispatches on the same tree, and their acknowledgements, are not telemetry: passed over uncounted."""
        if is_dispatch_topic(topic):
            return None
        self.received += 1
        now = self.clock()
        try:
            sample = parse_message(topic, payload, self.sites, now, self.settings.max_ahead)
            if sample.at < now - self.store.history:
                raise Rejected("too_old", f"{topic}: ts {sample.at.isoformat()} is older than the report history")
        except Rejected as exc:
            self.rejected[exc.reason] += 1
            self._log.warn(exc.reason, str(exc))
            return None
        self.store.add(sample)
        self.stored += 1
        if self.on_reading is not None:
            try:
                self.on_reading(topic, sample)
            except Exception:  # a defect of the listener (the InfluxDB sink) must not stop the intake
                log.exception("telemetry listener failed on %s: the reading is stored, the intake goes on", topic)
        return sample

    @property
    def connected(self) -> asyncio.Event:
        """Set while subscribed to the broker."""
        return self._link.connected

    @property
    def connections(self) -> int:
        """Broker sessions so far (a reconnection makes it 2)."""
        return self._link.connections

    async def start(self) -> None:
        """Start the connection loop in the background (it never gives up while the VEN runs)."""
        await self._link.start()

    async def stop(self) -> None:
        """Disconnect and end the loop."""
        await self._link.stop()

    async def _session(self, client: aiomqtt.Client) -> None:
        for topic in self.subscriptions:
            await client.subscribe(topic, qos=self.settings.qos)
        log.info("MQTT: subscribed to %d topics on %s:%d", len(self.subscriptions), self.settings.host, self.settings.port)
        async for message in client.messages:
            payload = message.payload
            self.handle(message.topic.value, bytes(payload) if isinstance(payload, bytes | bytearray) else b"")

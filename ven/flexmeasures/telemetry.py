"""Site telemetry ↔ FlexMeasures: meter and device readings forwarded to the site's sensors, and
FlexMeasures sensor data read back as a `TelemetrySource` for sites whose meters already feed it.

Forwarding: every `forward_every`, the completed 15-minute intervals of the last `FORWARD_LOOKBACK`
are resampled (`mapping.curtailment.resample`: a time-weighted mean) and those new or changed since
last posted go in one request per sensor and run of consecutive intervals: site-power → `site-
power`, asset-power → the device's `power`, asset-soc (%) → the device's `state-of-charge` (kWh, by
the asset's capacity). Intervals without data are not posted (FlexMeasures gets no invented value);
when FlexMeasures is unreachable they are posted by a later round.

Reading back: FlexMeasures keeps 15-minute means; each is held as one sample a minute over its
interval, so resampling it again gives the same mean with full coverage.

FlexMeasures away or refusing (`ven.flexmeasures.errors.UNAVAILABLE`) is counted in `failures` and
tried again next round; anything else is a defect, logged with its traceback and counted in `errors`.
"""

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta

from flexmeasures_client import FlexMeasuresClient

from mapping import curtailment
from mapping.curtailment import resample
from mapping.grid import QUARTER, floor_slot
from mapping.oadr import report_model as r
from ven.config import CurtailmentSettings, SiteConfig
from ven.flexmeasures import errors as fm
from ven.flexmeasures.provision import STORAGE_KINDS, SiteAssets, storage_capacity_kwh
from ven.hooks import TelemetrySource, resource_status
from ven.telemetry_mqtt import Sample as StoredSample
from ven.telemetry_mqtt import SeriesStore, r_id_for

log = logging.getLogger("cariflex.ven.flexmeasures.telemetry")

FORWARD_LOOKBACK = timedelta(hours=2)
MINUTE = timedelta(minutes=1)
SITE_POWER, ASSET_POWER, ASSET_SOC = r_id_for("meter", "power"), r_id_for("battery", "power"), r_id_for("battery", "soc")


def routes(site: SiteConfig) -> list[tuple[str, str, str, float]]:
    """(rID, FlexMeasures sensor name, unit, factor) of what is forwarded for a site."""
    found = [(SITE_POWER, "site-power", "kW", 1.0), (ASSET_POWER, "power", "kW", 1.0)]
    if site.asset.get("kind") in STORAGE_KINDS:
        found.append((ASSET_SOC, "state-of-charge", "kWh", storage_capacity_kwh(site) / 100.0))
    return found


def valued_runs(measured: Iterable[curtailment.Measured]) -> list[tuple[datetime, list[float]]]:
    """Consecutive intervals that have a value, as (start, values): one POST each."""
    runs: list[tuple[datetime, list[float]]] = []
    previous_end: datetime | None = None
    for item in measured:
        if item.kw is None:
            previous_end = None
            continue
        if previous_end is not None and item.start == previous_end:
            runs[-1][1].append(item.kw)
        else:
            runs.append((item.start, [item.kw]))
        previous_end = item.end
    return runs


class TelemetryForwarder:
    """Posts the sites' completed 15-minute means to their FlexMeasures sensors.

    Each round looks at the completed intervals of the last `FORWARD_LOOKBACK` and posts those whose
    mean is new or changed since it was posted (late samples do arrive), so nothing is posted twice
    and a slot missed while FlexMeasures was down is posted when it is back.
    """

    def __init__(
        self,
        client: FlexMeasuresClient,
        assets: Mapping[str, SiteAssets],
        source: TelemetrySource,
        sites: Iterable[SiteConfig],
        settings: CurtailmentSettings,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.client = client
        self.assets = assets
        self.source = source
        self.sites = [s for s in sites if s.name in assets]
        self.settings = settings
        self.clock = clock
        self.sent: dict[tuple[str, str], dict[datetime, float]] = {}  # (site, sensor) → slot → value posted
        self.posted: Counter[str] = Counter()  # values posted per sensor name
        self.failures = 0  # rounds of a site that FlexMeasures did not take (away or refusing)
        self.errors = 0  # rounds of a site that failed otherwise (a defect, logged with its traceback)

    async def forward_once(self) -> int:
        """Post what is new or changed; returns how many values were posted."""
        until = floor_slot(self.clock())
        since = until - FORWARD_LOOKBACK
        total = 0
        for site in self.sites:
            try:
                total += await self._forward(site, since, until)
            except fm.UNAVAILABLE as exc:  # unreachable, 4xx/5xx: what was not posted is posted next round
                self.failures += 1
                log.warning("%s: FlexMeasures refused the telemetry (%s); the next round posts it again", site.name, exc)
            except Exception:  # a defect: loud, and the other sites still get theirs
                self.errors += 1
                log.exception(
                    "%s: forwarding telemetry to FlexMeasures failed (a defect, not FlexMeasures being away)", site.name
                )
        return total

    async def _forward(self, site: SiteConfig, since: datetime, until: datetime) -> int:
        sensors = self.assets[site.name].sensors
        count = 0
        for r_id, sensor, unit, factor in routes(site):
            if sensor not in sensors:
                continue
            samples = self.source.samples(site, r_id, since, until)
            sent = self.sent.setdefault((site.name, sensor), {})
            for old in [slot for slot in sent if slot < since]:
                del sent[old]
            if not samples:
                continue
            measured = resample(samples, since, until, max_hold=self.settings.max_hold, min_coverage=self.settings.min_coverage)
            fresh = [m for m in measured if m.kw is not None and sent.get(m.start) != m.kw * factor]
            for start, values in valued_runs(fresh):
                scaled = [v * factor for v in values]
                await fm.call(
                    self.client.post_sensor_data(
                        sensors[sensor], start=start, duration=len(values) * QUARTER, values=scaled, unit=unit
                    )
                )
                sent.update({start + i * QUARTER: v for i, v in enumerate(scaled)})
                self.posted[sensor] += len(values)
                count += len(values)
        return count

    async def run(self, every: timedelta) -> None:
        """Forward every `every` until cancelled; a failed round is logged and the next one tries again."""
        await _every(every, self.forward_once, "forwarding telemetry to FlexMeasures")


class FlexMeasuresTelemetrySource:
    """A `TelemetrySource` reading the sites' FlexMeasures sensors (refreshed by `refresh_once`)."""

    def __init__(
        self,
        client: FlexMeasuresClient,
        assets: Mapping[str, SiteAssets],
        sites: Iterable[SiteConfig],
        history: timedelta,
        staleness: timedelta = timedelta(minutes=20),
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.client = client
        self.assets = assets
        self.sites = [s for s in sites if s.name in assets]
        self.history = history
        self.staleness = staleness
        self.clock = clock
        self.store = SeriesStore(history)
        self.refreshes = 0
        self.failures = 0  # sensor reads FlexMeasures did not answer (away or refusing)
        self.errors = 0  # sensor reads that failed otherwise (a defect, logged with its traceback)

    def reading(self, site: SiteConfig, r_id: str, at: datetime) -> float | None:
        """The 15-minute mean covering `at` (None when FlexMeasures has none recent enough)."""
        found = self.store.latest(site.name, r_id, at)
        return found[1] if found is not None and at - found[0] <= self.staleness else None

    def status(self, site: SiteConfig, at: datetime) -> r.ResourceStatus:
        """Online while FlexMeasures has recent site power; the state of charge from the device's sensor."""
        return resource_status(self, site, at)

    def samples(self, site: SiteConfig, r_id: str, start: datetime, end: datetime) -> list[curtailment.Sample]:
        """The stored per-minute samples of `r_id` in [start, end)."""
        return [curtailment.Sample(at, value) for at, value in self.store.window(site.name, r_id, start, end)]

    async def refresh_once(self) -> None:
        """Read each site's sensors over the history window (one request per sensor)."""
        end = floor_slot(self.clock()) + QUARTER
        start = floor_slot(end - self.history)
        for site in self.sites:
            sensors = self.assets[site.name].sensors
            for r_id, sensor, unit, factor in routes(site):
                if sensor not in sensors:
                    continue
                try:
                    data = await fm.call(
                        self.client.get_sensor_data(
                            sensors[sensor], start=start, duration=end - start, unit=unit, resolution=QUARTER
                        )
                    )
                    self._keep(site.name, r_id, start, data.get("values") or [], factor)
                except fm.UNAVAILABLE as exc:
                    self.failures += 1
                    log.warning("%s: cannot read FlexMeasures sensor %s (%s); keeping what was read", site.name, sensor, exc)
                except Exception:  # a defect (an answer we cannot read, say): loud, and the other sensors are still read
                    self.errors += 1
                    log.exception(
                        "%s: reading FlexMeasures sensor %s failed (a defect, not FlexMeasures being away)", site.name, sensor
                    )
        self.refreshes += 1

    def _keep(self, site: str, r_id: str, start: datetime, values: list[float | None], factor: float) -> None:
        for index, value in enumerate(values):
            if value is None:
                continue
            slot = start + index * QUARTER
            for minute in range(int(QUARTER / MINUTE)):
                self.store.add(StoredSample(site, r_id, slot + minute * MINUTE, float(value) / factor))

    async def run(self, every: timedelta) -> None:
        """Refresh every `every` until cancelled; a failed round is logged and the next one tries again."""
        await _every(every, self.refresh_once, "reading telemetry from FlexMeasures")


async def _every(every: timedelta, round_: Callable[[], Awaitable[object]], what: str) -> None:
    while True:
        try:
            await round_()
        except Exception:  # a background loop that dies silently would stop the telemetry for good
            log.exception("%s failed; trying again in %s", what, every)
        await asyncio.sleep(every.total_seconds())

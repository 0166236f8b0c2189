"""Scheduled versus actual: what each plan asked of a site's device and of its meter, against what the meter showed.

The ledger keeps, per site, the value that counts for each quarter hour (mapping/dispatch_tracking.py's rule)
of two series: the device's dispatched setpoints (by its kind: battery, evse…) and the plan's site net power
(ScheduleOutcome.site_kw, series `site`). Shortly after each quarter hour (`delay`, for late telemetry) it
checks the slot just completed, once, against the telemetry's time-weighted means (`mapping.curtailment.resample`,
as the reports and the FlexMeasures forwarder compute them): the last comparison of each series is on /metrics
(ven/metrics.py), a deviation beyond tolerance is counted and logged once. A slot without telemetry is skipped.
Kept in memory for the curtailment history window (a restart forgets the plans made before it). docs/ven.md,
"Scheduled versus actual".
"""

import asyncio
import logging
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from mapping.curtailment import resample
from mapping.dispatch import TOPIC_ROOT, Setpoints, setpoint_topic
from mapping.dispatch_tracking import (
    DEFAULT_TOLERANCE_KW,
    DEFAULT_TOLERANCE_SHARE,
    SITE,
    Plan,
    PlanBook,
    SlotCheck,
    check_slot,
)
from mapping.grid import QUARTER, floor_slot
from ven.config import CurtailmentSettings, SiteConfig
from ven.hooks import ConfiguredSource, SiteRoutedSource, TelemetrySource

log = logging.getLogger("cariflex.ven.tracking")

#: after a quarter hour ends, wait this long for its last samples before comparing
DEFAULT_DELAY = timedelta(minutes=1)
#: after a stall (a suspended host), at most this many missed slots are checked, the latest ones
CATCH_UP = 4
#: the telemetry rIDs of a site's meter and of its device (ven/telemetry_mqtt.py)
SITE_POWER, ASSET_POWER = "site-power", "asset-power"


class DispatchPath(StrEnum):
    """How a device's schedule reaches it: what an operator checks when it does not follow."""

    S2 = "s2"  # instructions to its paired Resource Manager (ven/s2/)
    MQTT = "mqtt"  # setpoints on its MQTT topic (ven/dispatch_mqtt.py)


class DispatchLedger:
    """What was planned per site and series, and the last slot compared of each."""

    def __init__(
        self,
        sites: Iterable[SiteConfig],
        source: TelemetrySource,
        settings: CurtailmentSettings,
        *,
        delay: timedelta = DEFAULT_DELAY,
        tolerance_kw: float = DEFAULT_TOLERANCE_KW,
        tolerance_share: float = DEFAULT_TOLERANCE_SHARE,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.sites = {s.name: s for s in sites}
        self.source = source
        self.settings = settings
        self.delay = delay
        self.tolerance_kw = tolerance_kw
        self.tolerance_share = tolerance_share
        self.clock = clock
        #: (site, series) → the value that counts per slot
        self.books: dict[tuple[str, str], PlanBook] = {}
        #: (site, series) → its last completed slot that could be compared (the /metrics gauges)
        self.last: dict[tuple[str, str], SlotCheck] = {}
        #: (site, series) → slots beyond tolerance so far
        self.beyond: Counter[tuple[str, str]] = Counter()
        #: slots passed over for want of telemetry, by (site, series)
        self.no_telemetry: Counter[tuple[str, str]] = Counter()
        #: (site, device kind) → how its last schedule reached it
        self.paths: dict[tuple[str, str], DispatchPath] = {}
        self._checked: datetime | None = None

    def record_device(self, site: str, kind: str, setpoints: Setpoints, path: DispatchPath) -> None:
        """A device schedule just dispatched, by `path`."""
        self.paths[(site, kind)] = path
        plan = Plan(setpoints.schedule_id, setpoints.issued, setpoints.start, setpoints.values_kw)
        self.books.setdefault((site, kind), PlanBook()).add(plan)

    def record_site(self, site: str, plan_id: str, issued: datetime, start: datetime, site_kw: Iterable[float]) -> None:
        """A plan's site net power (kW per quarter hour from `start`, consumption positive)."""
        values = tuple(float(kw) for kw in site_kw)
        if values:
            self.books.setdefault((site, SITE), PlanBook()).add(Plan(plan_id, issued, start, values))

    def site_planned_kw(self, site: str, slot: datetime) -> float | None:
        """The site's planned net power for `slot` (None: no plan counts for it): the report's `curtailment-planned`."""
        book = self.books.get((site, SITE))
        planned = book.planned(slot) if book is not None else None
        return planned.kw if planned is not None else None

    def check(self, now: datetime | None = None) -> list[tuple[str, str, SlotCheck]]:
        """Compare the quarter hours completed (`delay` ago) since the last check, each once; returns what was
        compared as (site, series, check)."""
        now = now or self.clock()
        latest = floor_slot(now - self.delay) - QUARTER
        first = latest if self._checked is None else max(self._checked + QUARTER, latest - (CATCH_UP - 1) * QUARTER)
        found = []
        slot = first
        while slot <= latest:
            found += self._check_slot(slot)
            slot += QUARTER
        self._checked = max(latest, self._checked) if self._checked is not None else latest
        horizon = now - max(self.settings.history, QUARTER * CATCH_UP)
        for book in self.books.values():
            book.forget_before(horizon)
        return found

    def _check_slot(self, slot: datetime) -> list[tuple[str, str, SlotCheck]]:
        found = []
        for (name, series), book in list(self.books.items()):
            site = self.sites.get(name)
            planned = book.planned(slot)
            if site is None or planned is None or not self._metered(site):
                continue
            actual = self._mean(site, SITE_POWER if series == SITE else ASSET_POWER, slot)
            check = check_slot(slot, planned, actual, self.tolerance_kw, self.tolerance_share)
            if check is None:
                self.no_telemetry[(name, series)] += 1
                continue
            self.last[(name, series)] = check
            if check.beyond:
                self.beyond[(name, series)] += 1
                self._warn(site, series, check)
            found.append((name, series, check))
        return found

    def _metered(self, site: SiteConfig) -> bool:
        """Whether the site's readings come from a meter: the configured base load (a site whose MQTT is not enabled)
        is no measurement, and comparing a plan with it would warn every quarter hour about nothing."""
        source = self.source
        if isinstance(source, SiteRoutedSource):
            source = source.by_site.get(site.name, source.fallback)
        return not isinstance(source, ConfiguredSource)

    def _mean(self, site: SiteConfig, r_id: str, slot: datetime) -> float | None:
        """The slot's time-weighted mean of `r_id` (kW); None without samples."""
        samples = self.source.samples(site, r_id, slot, slot + QUARTER)
        if not samples:
            return None
        measured = resample(
            samples, slot, slot + QUARTER, max_hold=self.settings.max_hold, min_coverage=self.settings.min_coverage
        )
        return measured[0].kw

    def _warn(self, site: SiteConfig, series: str, check: SlotCheck) -> None:
        when = f"{check.slot:%Y-%m-%d %H:%M}–{check.slot + QUARTER:%H:%M} UTC"
        figures = (
            f"{check.actual_kw:.2f} kW against {check.planned_kw:.2f} kW planned "
            f"(deviation {check.deviation_kw:+.2f} kW, tolerance ±{check.tolerance_kw:.2f} kW; plan {check.plan_id})"
        )
        if series == SITE:
            # INFO, not WARNING: the net power also carries the household's departure from its forecast, which is no
            # fault of dispatch (forty sites would warn most quarter hours); the device's own line below is the alarm
            kind = site.asset.get("kind")
            devices = f"{self._follows(site.name, str(kind))} and " if kind else ""
            log.info(
                "%s: the site's net power in %s was %s: check that %sthe household load is what the plan assumed "
                "(meter on %s/%s/meter/power)",
                site.name,
                when,
                figures,
                devices,
                TOPIC_ROOT,
                site.name,
            )
            return
        log.warning(
            "%s/%s: the device did not follow its schedule in %s: %s; check that %s and that its meter publishes on "
            "%s/%s/%s/power",
            site.name,
            series,
            when,
            figures,
            self._follows(site.name, series),
            TOPIC_ROOT,
            site.name,
            series,
        )

    def _follows(self, site: str, kind: str) -> str:
        """What the device should be doing with its schedule, by the path that carried it (what to check)."""
        if self.paths.get((site, kind)) is DispatchPath.S2:
            return (
                f"its S2 Resource Manager ({kind}) executes the instructions sent to it "
                "(its InstructionStatusUpdates and ReceptionStatus are in this log, logger cariflex.ven.s2)"
            )
        return f"the device follows {setpoint_topic(site, kind)}"

    async def run(self) -> None:
        """Check each quarter hour `delay` after it ends, until cancelled; a failed round is logged, the next goes on."""
        while True:
            now = self.clock()
            due = floor_slot(now - self.delay) + QUARTER + self.delay
            await asyncio.sleep(max(0.0, (due - now).total_seconds()))
            try:
                self.check()
            except Exception:  # a defect must not end the checks: loud, and the next quarter hour is checked
                log.exception("scheduled-versus-actual check failed")

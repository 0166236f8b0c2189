"""Events → FlexMeasures: the site's DSO sensors get the event's limits and prices for its window,
a schedule is triggered and read back, and the scheduled site power is checked against the limit.

Every (re)application is computed from all the events the site holds now, so a late retry can
never apply an old modification over a newer one; a site whose application failed because
FlexMeasures was away or refused (`ven.flexmeasures.errors.UNAVAILABLE`) is marked pending and
retried with back-off until FlexMeasures takes it. Any other error is a defect: logged with its
traceback, counted (`applications`, result "error") and not retried until the site's events change
or the VEN restarts.
"""

import asyncio
import logging
import random
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flexmeasures_client import FlexMeasuresClient

from mapping.flex.combine import combine
from mapping.flex.constraints import (
    EXPORT_LIMIT,
    IMPORT_LIMIT,
    PEAK_PRICE,
    PRICE,
    SOC_TARGET,
    Constraint,
    SignalRefused,
    SiteFacts,
    event_constraints,
)
from mapping.flex.devices import STORAGE_KINDS, Device, flex_model, missed_departures
from mapping.flex.flexmeasures import DSO_SENSORS, quantity, request_commitments, sensor_values, soc_points, trigger_segments
from mapping.flex.forecast import household_series
from mapping.flex.unmet import Window, breached_windows
from mapping.grid import QUARTER, Segment, ceil_slot, floor_slot
from mapping.oadr import model as m
from mapping.oadr.model import EventStatus, OptType
from mapping.solar import pv_kw
from ven.config import SiteConfig
from ven.flexmeasures import errors as fm
from ven.flexmeasures.provision import SiteAssets, site_defaults
from ven.hooks import UnmetCallback
from ven.opt_policy import DEFAULT_PLACE, site_facts
from ven.store import KnownEvent

log = logging.getLogger("cariflex.ven.flexmeasures")
#: how many sites are applied to FlexMeasures at once (its scheduling worker solves one job at a time anyway)
APPLICATIONS_AT_ONCE = 4
#: how a defect in applying a site's constraints is logged (with its traceback)
_DEFECT = (
    "%s: constraints not applied: unexpected error (a defect, not FlexMeasures being away); not retried until the events change"
)


@dataclass
class ScheduleOutcome:
    """What one application achieved: the window, the device's schedule, the site's scheduled import, what
    it leaves unmet per event, and any EV departure short of its target (departure, kWh held, kWh needed)."""

    site: str
    start: datetime
    end: datetime
    schedule_kw: list[float]
    site_kw: list[float] = field(default_factory=list)
    unmet: dict[str, tuple[Window, ...]] = field(default_factory=dict)
    soc_missed: list[tuple[datetime, float, float]] = field(default_factory=list)
    job_failed: str | None = None
    #: the device rejected or ignored what it was sent: every event is unmet
    device_not_following: bool = False


async def read_kw(client: FlexMeasuresClient, sensor_id: int, start: datetime, end: datetime) -> list[float | None]:
    """A sensor's values (kW) per 15-minute slot over [start, end), None where it holds none."""
    data = await fm.call(client.get_sensor_data(sensor_id, start=start, duration=end - start, unit="kW", resolution=QUARTER))
    return [float(v) if v is not None else None for v in data["values"]]


class FlexMeasuresHooks:
    """EventHooks that keep each site's FlexMeasures constraints and schedule in step with its events."""

    def __init__(
        self,
        client: FlexMeasuresClient,
        assets: dict[str, SiteAssets],
        held_events: Callable[[str], dict[str, KnownEvent]],
        clock: Callable[[], datetime],
        max_backoff: timedelta = timedelta(minutes=5),
        soc_percent: Callable[[SiteConfig, datetime], float | None] | None = None,
        horizon: timedelta = timedelta(hours=36),
    ) -> None:
        self.client = client
        #: how far ahead each plan looks (the rolling horizon)
        self.horizon = horizon
        #: the measured state of charge (%) a schedule starts from; None: half full (an EV not yet plugged
        #: in: what it holds on arrival)
        self.soc_percent = soc_percent
        self.assets = assets
        self.held_events = held_events
        self.clock = clock
        self.max_backoff = max_backoff
        self.outcomes: dict[str, ScheduleOutcome] = {}
        self.applied_window: dict[str, tuple[datetime, datetime]] = {}
        self._retries: dict[str, asyncio.Task] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        #: applications in flight at once: forty sites re-planned together must not stampede one FlexMeasures
        self._at_once = asyncio.Semaphore(APPLICATIONS_AT_ONCE)
        self._tasks: set[asyncio.Task] = set()
        #: applications by (site, result): ok, failed (FlexMeasures unreachable or refusing), job_failed, error (a
        #: defect, logged with its traceback) — read by /metrics
        self.applications: Counter[tuple[str, str]] = Counter()
        #: told, after each application, which events the schedule cannot honour (set by the VEN process)
        self.on_unmet: UnmetCallback | None = None
        #: handed each new device schedule to send to the device (set by the VEN process: MQTT dispatch)
        self.on_schedule: Callable[[SiteConfig, ScheduleOutcome], Awaitable[None]] | None = None
        #: whether the site's device follows what it is sent (False: it rejected or ignored it; None: unknown)
        self.device_following: Callable[[SiteConfig], bool | None] | None = None
        #: the site's device as its S2 Resource Manager describes it, in place of sites.toml (set by the VEN
        #: process when an RM is paired; None: the configuration)
        self.device_of: Callable[[SiteConfig], Device | None] | None = None
        #: the fill levels (time, kWh) the site's RM asks its storage to hold at least (its fill level targets)
        self.soc_minima_of: Callable[[SiteConfig, Device], list[tuple[datetime, float]]] | None = None
        #: what the site's RM says of its storage over [start, end): its usage forecast and leakage (kW by slot,
        #: positive drains it)
        self.rm_storage_of: Callable[[SiteConfig, Device, datetime, datetime], list[tuple[datetime, float]]] | None = None

    # --- EventHooks -------------------------------------------------------------------------

    async def on_event(self, site: SiteConfig, event: m.Event, opt_type: str) -> None:
        """A new or modified event: re-apply the site's constraints (in the background, so the VEN
        answers the VTN and keeps polling while FlexMeasures schedules)."""
        self._in_background(site)

    async def on_cancel(self, site: SiteConfig, event: m.Event, implicit: bool) -> None:
        """A cancellation: re-apply without it (its window falls back to the defaults)."""
        self._in_background(site)

    async def on_start(self, site: SiteConfig, event: m.Event, resumed: bool) -> None:
        """Nothing to do: the schedule already covers the event; after a restart, re-apply."""
        if resumed:
            self._in_background(site)

    async def on_interval(self, site: SiteConfig, event: m.Event, index: int) -> None:
        """Nothing to do: FlexMeasures holds the whole window."""

    async def on_end(self, site: SiteConfig, event: m.Event) -> None:
        """Nothing to do."""

    # --- application ------------------------------------------------------------------------

    def _held_events(self, site: SiteConfig) -> list[m.Event]:
        """The events the site takes part in now: opted in, not cancelled, not tests."""
        return [
            known.event
            for known in self.held_events(site.name).values()
            if known.opt_type == OptType.OPT_IN
            and known.event.status != EventStatus.CANCELLED
            and known.event.test_event.lower() in ("false", "")
        ]

    def _constraints(self, site: SiteConfig, events: list[m.Event], facts: SiteFacts) -> list[Constraint]:
        constraints: list[Constraint] = []
        for event in events:
            try:
                constraints.extend(event_constraints(event, facts))
            except SignalRefused as exc:  # the opt policy answered optOut already; keep the others
                log.warning("%s: event %s not applied: %s", site.name, event.event_id, exc)
        return constraints

    def reapply(self, site: SiteConfig) -> None:
        """Re-plan the site now, in the background (its device stopped or started following, say)."""
        self._in_background(site)

    def _in_background(self, site: SiteConfig) -> None:
        task = asyncio.create_task(self.apply_or_retry(site), name=f"flexmeasures:{site.name}")
        self._tasks.add(task)  # keep a reference until done (asyncio holds tasks weakly)
        task.add_done_callback(self._tasks.discard)

    async def apply_or_retry(self, site: SiteConfig) -> None:
        """Apply now; when FlexMeasures is away or refuses, keep retrying in the background with back-off.
        Any other error is logged with its traceback and not retried (it never reaches the VEN's loop)."""
        try:
            await self.apply(site)
        except fm.UNAVAILABLE as exc:  # unreachable, 4xx/5xx, timeouts: the constraint waits, nothing is lost
            log.warning("%s: FlexMeasures did not take the constraints (%s); retrying in the background", site.name, exc)
            if site.name not in self._retries or self._retries[site.name].done():
                self._retries[site.name] = asyncio.create_task(self._retry(site))
        except Exception:
            log.exception(_DEFECT, site.name)

    async def _retry(self, site: SiteConfig) -> None:
        delay = 1.0
        while True:
            await asyncio.sleep(random.uniform(delay / 2, delay))
            try:
                await self.apply(site)
                log.info("%s: FlexMeasures is back; constraints applied", site.name)
                return
            except fm.UNAVAILABLE as exc:
                delay = min(delay * 2, self.max_backoff.total_seconds())
                log.warning("%s: FlexMeasures still failing (%s); next try within %.0f s", site.name, exc, delay)
            except Exception:
                log.exception(_DEFECT, site.name)
                return

    async def replan(self, sites: tuple[SiteConfig, ...], every: timedelta) -> None:
        """The rolling plan: every `every`, plan each provisioned site again over the horizon from now — with
        the latest state of charge and forecast — whether or not its events changed."""
        while True:
            await asyncio.sleep(every.total_seconds())
            for site in sites:
                if site.name in self.assets:
                    await self.apply_or_retry(site)

    async def resume(self, sites: tuple[SiteConfig, ...]) -> None:
        """After a (re)start, plan every provisioned site: the events are on disk, so a constraint FlexMeasures
        did not take before the restart is not lost (those sites are applied before this returns); a site
        without events gets its rolling plan in the background."""
        for site in sites:
            if site.name not in self.assets:
                continue
            if self.held_events(site.name):
                await self.apply_or_retry(site)
            else:
                self._in_background(site)

    async def settled(self) -> None:
        """Return once no application is in flight (those started by events, cancellations or the rolling plan)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def pending(self) -> list[str]:
        """Sites whose constraints are waiting for FlexMeasures."""
        return [name for name, task in self._retries.items() if not task.done()]

    async def apply(self, site: SiteConfig) -> ScheduleOutcome | None:
        """Post the DSO series for the affected window, trigger a schedule and check it."""
        lock = self._locks.setdefault(site.name, asyncio.Lock())
        async with lock, self._at_once:
            try:
                outcome = await self._apply(site)
            except fm.UNAVAILABLE:
                self.applications[(site.name, "failed")] += 1
                raise
            except Exception:
                self.applications[(site.name, "error")] += 1
                raise
            self.applications[(site.name, "job_failed" if outcome is not None and outcome.job_failed else "ok")] += 1
            return outcome

    async def _apply(self, site: SiteConfig) -> ScheduleOutcome | None:
        assets = self.assets[site.name]
        now = floor_slot(self.clock())
        held = self._held_events(site)
        previous = self.applied_window.get(site.name, (now, now))
        ends = [now + self.horizon, previous[1]] + [e.dtstart + e.duration for e in held]
        window_start, window_end = now, ceil_slot(max(ends))
        facts = site_facts(site, (window_start, window_end), self._device(site))
        constraints = self._constraints(site, held, facts)
        combined = combine(constraints)
        defaults = site_defaults(site)
        for kind in (IMPORT_LIMIT, EXPORT_LIMIT, PRICE):
            name, unit = DSO_SENSORS[kind]
            values = sensor_values(combined.get(kind, []), window_start, window_end, defaults[kind])
            await self._post(assets.sensors[name], window_start, window_end, values, unit)
        household = household_series(site.base_load_kw, window_start, window_end, site.flex.time_zone)
        await self._post(assets.sensors["base-load"], window_start, window_end, list(household.values()), "kW")
        self.applied_window[site.name] = (window_start, window_end)
        outcome = await self._schedule(site, assets, combined, window_start, window_end)
        if outcome is not None:
            outcome.unmet = self._unmet(outcome, constraints)
            if self.device_following is not None and self.device_following(site) is False:
                # a device that does not follow its schedule does what it would do on its own: the site keeps to what
                # its forecast without control keeps to, whatever the schedule says (the plan is still sent, so the
                # device can take it up again)
                outcome.unmet = self._unmet_uncontrolled(site, outcome, constraints)
                outcome.device_not_following = True
            await self._tell_unmet(site, outcome, constraints)
        if outcome is not None and outcome.schedule_kw:
            await self._post(assets.sensors["aggregate-consumption"], window_start, window_end, outcome.site_kw, "kW")
            await self._dispatch(site, outcome)
        return outcome

    async def _dispatch(self, site: SiteConfig, outcome: ScheduleOutcome) -> None:
        """Hand the device's schedule to `on_schedule` (a failed job has none to send). Its failure is logged: the
        next application sends it again."""
        if self.on_schedule is None or outcome.job_failed:
            return
        try:
            await self.on_schedule(site, outcome)
        except Exception:
            log.exception("%s: could not dispatch the device's schedule", site.name)

    async def _post(self, sensor: int, start: datetime, end: datetime, values: list[float], unit: str) -> None:
        await fm.call(self.client.post_sensor_data(sensor, start=start, duration=end - start, values=values, unit=unit))

    def _unmet(self, outcome: ScheduleOutcome, constraints: list[Constraint]) -> dict[str, tuple[Window, ...]]:
        """Per event, the windows the schedule leaves outside what it asks (every event's, when the job failed)."""
        if outcome.job_failed:
            return {c.event_id: () for c in constraints}
        slots = [outcome.start + i * QUARTER for i in range(len(outcome.site_kw))]
        return breached_windows(zip(slots, outcome.site_kw, strict=True), constraints)

    def _unmet_uncontrolled(
        self, site: SiteConfig, outcome: ScheduleOutcome, constraints: list[Constraint]
    ) -> dict[str, tuple[Window, ...]]:
        """Per event, the windows the site leaves outside what it asks when its device runs on its own (the site's
        forecast without control: household plus the device's own behaviour)."""
        load = site_facts(site, (outcome.start, outcome.end), self._device(site)).load()
        slots = [outcome.start + i * QUARTER for i in range(max(1, (outcome.end - outcome.start) // QUARTER))]
        return breached_windows(((slot, load.expected(slot, slot + QUARTER)) for slot in slots), constraints)

    async def _tell_unmet(self, site: SiteConfig, outcome: ScheduleOutcome, constraints: list[Constraint]) -> None:
        """Hand what the schedule cannot honour to `on_unmet` (nothing, when it honours every event). Its failure
        is logged: the schedule itself stands."""
        if self.on_unmet is None:
            return
        if outcome.job_failed:
            why = f"the FlexMeasures schedule failed: {outcome.job_failed}"
        elif outcome.device_not_following:
            why = "the site's device does not follow the schedule it is sent (rejected or unanswered)"
        else:
            why = "the site's schedule cannot keep to what the event asks"
        try:
            await self.on_unmet(site, outcome.unmet, why)
        except Exception:  # the VTN away or refusing: logged; the next application tells it again
            log.exception("%s: could not tell the VTN which events the schedule cannot honour", site.name)

    async def _aggregate(
        self, assets: SiteAssets, start: datetime, end: datetime, device_kw: list[float], household: list[float]
    ) -> list[float]:
        """The scheduled site consumption FlexMeasures wrote to the aggregate-consumption sensor (FlexMeasures
        does not flag what a schedule misses itself); where it wrote nothing, device schedule + household."""
        written = await read_kw(self.client, assets.sensors["aggregate-consumption"], start, end)
        return [w if w is not None else d + h for w, d, h in zip(written, device_kw, household, strict=False)]

    def _device(self, site: SiteConfig) -> Device | None:
        """The site's device as its Resource Manager describes it (power, capacity, SoC), else as sites.toml does:
        the one description the plan, the forecast and the judgement without control all use."""
        return (self.device_of(site) if self.device_of is not None else None) or site.device

    async def _schedule(
        self, site: SiteConfig, assets: SiteAssets, combined: dict[str, list[Segment]], start: datetime, end: datetime
    ) -> ScheduleOutcome:
        device = self._device(site)
        assert device is not None  # provisioned sites have a device (provision skips the others)
        soc = self.soc_percent(site, self.clock()) if self.soc_percent is not None else None
        place = (site.latitude or DEFAULT_PLACE[0], site.longitude or DEFAULT_PLACE[1])
        usage: list[tuple[datetime, float]] = []
        if self.rm_storage_of is not None and device.kind in STORAGE_KINDS:
            usage = self.rm_storage_of(site, device, start, end)
        model = flex_model(
            device,
            assets.power_sensor,
            start,
            end,
            soc,
            site.flex.time_zone,
            lambda slot: pv_kw(device.peak_kw, slot + QUARTER / 2, *place),
            usage_kw=usage,
        )
        targets = [s for s in combined.get(SOC_TARGET, []) if start < s.start <= end]
        if targets and device.kind in STORAGE_KINDS:
            model["soc-targets"] = soc_points(targets)
        if self.soc_minima_of is not None and device.kind in STORAGE_KINDS:
            asked = [Segment(at, at, kwh) for at, kwh in self.soc_minima_of(site, device) if start < at <= end]
            if asked:  # added to the device's own minima (an EV's departure): FlexMeasures keeps every one
                model["soc-minima"] = list(model.get("soc-minima", [])) + soc_points(asked)
        # export is worth the site's feed-in tariff, never the import price (0 without a feed-in contract); a
        # fixed price is only accepted in a trigger, not in the stored flex-context
        context: dict[str, Any] = {"production-price": quantity(site.opt.feed_in_price_per_kwh, "EUR/kWh")}
        if combined.get(PEAK_PRICE):
            context["site-peak-consumption-price"] = trigger_segments(PEAK_PRICE, combined[PEAK_PRICE])
        commitments = request_commitments(combined, start, end)
        if commitments:
            context["commitments"] = commitments
        outcome = ScheduleOutcome(site.name, start, end, [])
        try:
            result = await fm.call(
                self.client.trigger_and_get_schedule(
                    asset_id=assets.site_asset_id,
                    start=start,
                    duration=end - start,
                    flex_model=[model],
                    flex_context=context,
                    prior=self.clock(),
                    unit="kW",
                    polling_interval=0.5,  # a job takes ~0.5 s; the client's default first look is after 2 s
                    max_polling_interval=2.0,
                )
            )
        except fm.SCHEDULE_FAILED as exc:  # the job's status is FAILED/STOPPED/CANCELED (infeasible, say): by type
            outcome.job_failed = str(exc)
            self.outcomes[site.name] = outcome
            log.error("%s: the FlexMeasures schedule failed: %s", site.name, exc)
            return outcome
        schedule = result[0] if isinstance(result, list) else result
        outcome.schedule_kw = [float(v) for v in schedule["values"]]
        household = list(household_series(site.base_load_kw, start, end, site.flex.time_zone).values())
        outcome.site_kw = await self._aggregate(assets, start, end, outcome.schedule_kw, household)
        outcome.soc_missed = missed_departures(device, soc, outcome.schedule_kw, start, site.flex.time_zone)
        for departure, held_kwh, target_kwh in outcome.soc_missed:
            log.warning(
                "%s: the EV leaves at %s with %.1f kWh, short of the %.1f kWh it needs (not enough time plugged in)",
                site.name,
                departure.isoformat(),
                held_kwh,
                target_kwh,
            )
        self.outcomes[site.name] = outcome
        return outcome

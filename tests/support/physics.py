"""Flexibility judged at the meter: each scenario sends events through our VTN to our VEN process (one site
of each kind from config/sites.toml, the shipped config/ven.toml), which plans them on a real FlexMeasures;
simulated devices then obey only what is dispatched — the schedule FlexMeasures wrote to each device's power
sensor — within their physics (power, state of charge, plug times, the sun), beside a household that follows
Martinique's evening profile with its own noise. What the site would have done is the same simulation under
the plan the VEN had before the events (its rolling plan): the baseline.

Used by tests/test_flex_physics.py (which asserts every property) and bench/flex_physics.py (which prints
the table). FlexMeasures comes from the caller.
"""

import asyncio
import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from demo.world import household_kw as true_household_kw
from mapping.flex.combine import combine
from mapping.flex.constraints import (
    EXPORT_LIMIT,
    IMPORT_CEILING,
    IMPORT_FLOOR,
    IMPORT_LIMIT,
    PREPARATION_CEILING,
    event_constraints,
)
from mapping.flex.devices import STORAGE_KINDS, Device, driving_kw, sessions, start_soc_kwh
from mapping.grid import LOCAL_ZONE, QUARTER
from mapping.oadr import model as m
from mapping.oadr.model import OptType
from mapping.oadr.vocabulary import default_unit
from mapping.oadr.vocabulary import power_kw as kw_unit
from mapping.solar import pv_kw
from tests.support.vtn_harness import VtnUnderTest, config_for_tests, running_vtn
from ven.config import FlexMeasuresSettings, SiteConfig, load_config
from ven.flexmeasures.hooks import FlexMeasuresHooks, read_kw
from ven.opt_policy import DEFAULT_PLACE, site_facts
from ven.runner import VenProcess
from vtn.admin import events as event_admin
from vtn.config import ProgramConfig

MQ = ZoneInfo(LOCAL_ZONE)
KINDS = ("battery", "evse", "v2g", "pv")
#: the programs the scenarios' events belong to (the shipped ven.toml enrols the sites in programs/*)
GRID_PROGRAM = "http://cariflex.mq/programs/sei-evening-peak"
#: how far (kW) a mean may miss a property: solver rounding plus the household's ±5 % noise around its forecast
TOLERANCE_KW = 0.15
HOURS = QUARTER / timedelta(hours=1)


@dataclass(frozen=True)
class Order:
    """One event a scenario sends: its signal, values per quarter hour from `start`, the site kinds it
    targets, the source it comes from (its priority band) and an optional eiEventBaseline (kW)."""

    signal: tuple[str, str]
    values: tuple[float, ...]
    start: datetime
    kinds: tuple[str, ...]
    source: str = "dso:edf-sei"
    priority: int | None = None
    baseline_kw: float | None = None

    @property
    def end(self) -> datetime:
        """When its last interval ends."""
        return self.start + len(self.values) * QUARTER


@dataclass(frozen=True)
class Scenario:
    """Events sent together, and the window whose meter readings judge them."""

    name: str
    what: str
    orders: tuple[Order, ...]

    @property
    def window(self) -> tuple[datetime, datetime]:
        """The events' window."""
        return min(o.start for o in self.orders), max(o.end for o in self.orders)


@dataclass
class SiteRun:
    """What one site did in one scenario, slot by slot from the plan's start."""

    site: SiteConfig
    opt: str
    slots: list[datetime]
    baseline_kw: list[float]
    import_kw: list[float]
    device_kw: list[float]
    soc_kwh: list[float]  # at the end of each slot
    ceiling_kw: dict[datetime, float] = field(default_factory=dict)
    floor_kw: dict[datetime, float] = field(default_factory=dict)
    limit_kw: dict[datetime, float] = field(default_factory=dict)
    export_limit_kw: dict[datetime, float] = field(default_factory=dict)
    prepared_kw: dict[datetime, float] = field(default_factory=dict)
    checks: list[tuple[str, bool, str]] = field(default_factory=list)

    @property
    def kind(self) -> str:
        """The site's device kind."""
        device = self.site.device
        return device.kind if device is not None else "none"

    def mean(self, values: list[float], start: datetime, end: datetime) -> float:
        """The mean of a per-slot series over [start, end)."""
        inside = [v for s, v in zip(self.slots, values, strict=True) if start <= s < end]
        return sum(inside) / len(inside) if inside else math.nan

    def check(self, name: str, holds: bool, detail: str) -> None:
        """Record a property."""
        self.checks.append((name, holds, detail))


def next_local(now: datetime, at: time, lead: timedelta = timedelta(hours=3)) -> datetime:
    """The next local `at` at least `lead` from now (UTC)."""
    day = (now + lead).astimezone(MQ).date()
    moment = datetime.combine(day, at, MQ)
    return moment if moment >= now + lead else moment + timedelta(days=1)


def scenarios(now: datetime) -> list[Scenario]:
    """The scenario families, each placed at the next local time it is about (18:00 alert: tonight's)."""
    evening = next_local(now, time(18, 0))
    late = next_local(now, time(22, 0))
    noon = next_local(now, time(11, 0))
    peak = next_local(now, time(19, 0))
    storage = ("battery", "evse", "v2g")
    return [
        Scenario(
            "alert",
            "EDF SEI RED evening alert (SIMPLE 3), 18:00–21:00",
            (Order(("SIMPLE", "level"), (3.0,) * 12, evening, KINDS, priority=1),),
        ),
        Scenario(
            "price-peak",
            "0.60 EUR/kWh 18:00–21:00 (base 0.20)",
            (Order(("ELECTRICITY_PRICE", "price"), (0.60,) * 12, evening, storage),),
        ),
        Scenario(
            "up-modulation",
            "LOAD_DISPATCH delta +5 kW 22:00–23:00 (consume more)",
            (Order(("LOAD_DISPATCH", "delta"), (5.0,) * 4, late, storage),),
        ),
        Scenario(
            "delta-baseline",
            "LOAD_DISPATCH delta −2 kW against an eiEventBaseline of 4 kW, 19:00–20:00",
            (Order(("LOAD_DISPATCH", "delta"), (-2.0,) * 4, peak, ("battery", "v2g"), baseline_kw=4.0),),
        ),
        Scenario(
            "pv-export-cap",
            "x-EXPORT_CAPACITY_LIMIT 1 kW 11:00–13:00 on the PV site (3 kVA export contract)",
            (Order(("x-EXPORT_CAPACITY_LIMIT", "setpoint"), (1.0,) * 8, noon, ("pv",)),),
        ),
        Scenario(
            "dso-over-aggregator",
            "DSO cap 5 kW and an aggregator's 30 kW setpoint, 22:00–23:00",
            (
                Order(("x-IMPORT_CAPACITY_LIMIT", "setpoint"), (5.0,) * 4, late, ("battery",), source="dso:edf-sei"),
                Order(("LOAD_DISPATCH", "setpoint"), (30.0,) * 4, late, ("battery",), source="aggregator:acme", priority=1),
            ),
        ),
    ]


def cast(scenario_list: list[Scenario], sites: tuple[SiteConfig, ...]) -> dict[str, tuple[SiteConfig, ...]]:
    """Each scenario's own sites, one per kind its orders target, taken in order from config/sites.toml (so the
    scenarios run side by side without sharing a site)."""
    free = {kind: [s for s in sites if s.device is not None and s.device.kind == kind] for kind in KINDS}
    cast_sites = {}
    for scenario in scenario_list:
        kinds = [k for k in KINDS if any(k in o.kinds for o in scenario.orders)]
        if any(not free[k] for k in kinds):
            raise ValueError(f"{scenario.name}: config/sites.toml has no site of each kind {kinds} left")
        cast_sites[scenario.name] = tuple(free[k].pop(0) for k in kinds)
    return cast_sites


def _obey(
    device: Device, planned: list[float | None], start: datetime, soc_kwh: float, available_pv: Callable[[datetime], float]
) -> tuple[list[float], list[float]]:
    """What the device does when it follows `planned` (kW per slot; None: nothing dispatched, it idles, PV
    produces what the sun gives) within its power, its state of charge and its plug times."""
    slots = [start + i * QUARTER for i in range(len(planned))]
    at = sessions(device, start, slots[-1] + QUARTER, MQ) if slots else []
    one_way = math.sqrt(device.roundtrip_efficiency_percent / 100)
    power, soc = [], []
    for slot, plan in zip(slots, planned, strict=True):
        if device.kind == "pv":
            available = available_pv(slot)
            power.append(-available if plan is None else -min(max(-plan, 0.0), available))
            soc.append(0.0)
            continue
        there = device.kind == "battery" or any(s.plugged(slot) for s in at)
        soc_kwh = max(soc_kwh - driving_kw(at, slot) * HOURS, 0.0)  # away: it drives
        kw = min(max(plan or 0.0, -device.power_kw), device.power_kw) if there else 0.0
        if device.kind == "evse":
            kw = max(kw, 0.0)
        kw = min(kw, (device.capacity_kwh - soc_kwh) / (HOURS * one_way))  # not beyond full
        kw = max(kw, -soc_kwh * one_way / HOURS)  # not below empty
        soc_kwh += kw * HOURS * one_way if kw >= 0 else kw * HOURS / one_way
        power.append(kw)
        soc.append(soc_kwh)
    return power, soc


class PhysicsRun:
    """Our VTN, our VEN process with the scenarios' sites, and a FlexMeasures the caller started."""

    def __init__(self, settings: FlexMeasuresSettings, db_url: str, work: Path, scenario_list: list[Scenario]) -> None:
        self.db_url = db_url
        self.scenarios = scenario_list
        shipped = load_config()
        self.cast = cast(scenario_list, shipped.sites)
        self.sites = tuple(site for sites in self.cast.values() for site in sites)
        self.config = replace(
            shipped,
            store_path=work / "ven.db",
            default_poll_interval=timedelta(seconds=1),
            max_backoff=timedelta(seconds=2),
            sites=self.sites,
            flexmeasures=settings,
            mqtt=None,
            metrics=replace(shipped.metrics, port=None),
            push=None,
            tls=None,
            xml_signatures=False,
        )

    async def run(self, say: Callable[[str], None] = print) -> dict[str, list[SiteRun]]:
        """Every scenario at once, each on its own sites: the plans before the events (the baseline), the events
        through the VTN, the plans after; each site's run per scenario."""
        vtn_config = config_for_tests(self.db_url, poll_interval=timedelta(seconds=1))
        vtn_config = replace(vtn_config, programs=(*vtn_config.programs, _program(GRID_PROGRAM)))
        async with running_vtn(vtn_config) as vtn:
            process = VenProcess(replace(self.config, vtn_url=f"{vtn.base_url}/OpenADR2/Simple/2.0b"))
            await process.start(spread_first_polls=False)
            try:
                hooks = process.hooks
                assert isinstance(hooks, FlexMeasuresHooks)
                await _registered(process)
                await hooks.settled()  # the rolling plan the VEN made at start
                baseline = await self._plans(hooks)
                say(f"{len(self.sites)} sites planned without events (the baseline)")
                sent: dict[str, list[m.Event]] = {}
                for scenario in self.scenarios:
                    sent[scenario.name] = [
                        await _send(vtn, order, self._targets(process, scenario, order), f"{scenario.name}-{index}")
                        for index, order in enumerate(scenario.orders)
                    ]
                say(f"{sum(map(len, sent.values()))} events sent through the VTN")
                await _held(
                    process, {s.name: {e.event_id for e in sent[name]} for name, sites in self.cast.items() for s in sites}
                )
                say("every event answered by the VEN")
                await hooks.settled()  # the VEN planned the events as they arrived (opted out or in)
                response = await self._plans(hooks)
                say("every site planned again with its events")
                return {
                    name: [self._site_run(site, hooks, sent[name], baseline[site.name], response[site.name]) for site in sites]
                    for name, sites in self.cast.items()
                }
            finally:
                await process.stop()

    def _targets(self, process: VenProcess, scenario: Scenario, order: Order) -> tuple[str, ...]:
        sites = self.cast[scenario.name]
        return tuple(process.vens[s.name].site.ven_id for s in sites if s.device is not None and s.device.kind in order.kinds)

    async def _plans(self, hooks: FlexMeasuresHooks) -> dict[str, tuple[datetime, list[float | None]]]:
        """Each site's latest plan, as FlexMeasures dispatches it to its device (its power sensor)."""
        plans = {}
        for site in self.sites:
            outcome = hooks.outcomes.get(site.name) or await hooks.apply(site)
            assert outcome is not None and outcome.job_failed is None, (site.name, outcome)
            sensor = hooks.assets[site.name].power_sensor
            plans[site.name] = (outcome.start, await read_kw(hooks.client, sensor, outcome.start, outcome.end))
        return plans

    def _site_run(
        self,
        site: SiteConfig,
        hooks: FlexMeasuresHooks,
        sent: list[m.Event],
        baseline: tuple[datetime, list[float | None]],
        response: tuple[datetime, list[float | None]],
    ) -> SiteRun:
        device = site.device
        assert device is not None
        start, planned = response
        start_base, planned_base = baseline
        # both plans start at the same quarter hour (the scenario takes seconds); align on the response's
        offset = int((start - start_base) / QUARTER)
        planned_base = planned_base[offset:] + [None] * offset
        place = (site.latitude or DEFAULT_PLACE[0], site.longitude or DEFAULT_PLACE[1])

        def sun(slot: datetime) -> float:
            return pv_kw(device.peak_kw, slot + QUARTER / 2, *place)

        at = sessions(device, start, start + len(planned) * QUARTER, MQ)
        soc0 = start_soc_kwh(device, at, start, None)
        slots = [start + i * QUARTER for i in range(len(planned))]
        house = [true_household_kw(site.name, site.base_load_kw, (s + QUARTER / 2).astimezone(MQ)) for s in slots]
        device_kw, soc = _obey(device, planned, start, soc0, sun)
        base_device, _ = _obey(device, planned_base, start, soc0, sun)
        known = hooks.held_events(site.name)
        opts = {known[e.event_id].opt_type for e in sent if e.event_id in known}
        run = SiteRun(
            site,
            OptType.OPT_OUT if OptType.OPT_OUT in opts else (OptType.OPT_IN if opts else "-"),
            slots,
            [h + d for h, d in zip(house, base_device, strict=True)],
            [h + d for h, d in zip(house, device_kw, strict=True)],
            device_kw,
            soc,
        )
        facts = site_facts(site, (slots[0], slots[-1] + QUARTER))
        events = [known[e.event_id].event for e in sent if e.event_id in known and known[e.event_id].opt_type == OptType.OPT_IN]
        constraints = [c for event in events for c in event_constraints(event, facts)]
        by_kind = {
            IMPORT_CEILING: run.ceiling_kw,
            IMPORT_FLOOR: run.floor_kw,
            IMPORT_LIMIT: run.limit_kw,
            EXPORT_LIMIT: run.export_limit_kw,
            PREPARATION_CEILING: run.prepared_kw,
        }
        for kind, segments in combine(constraints).items():
            if kind in by_kind:
                for segment in segments:
                    slot = segment.start
                    while slot < segment.end:
                        by_kind[kind][slot] = segment.value
                        slot += QUARTER
        return run


def _program(market_context: str) -> ProgramConfig:
    return ProgramConfig(market_context.rsplit("/", 1)[-1], market_context, "Scenario program")


async def _send(vtn: VtnUnderTest, order: Order, ven_ids: tuple[str, ...], name: str) -> m.Event:
    """Create the order's event at the VTN, from its source (which ranks its priority)."""
    now = vtn.ctx.now()
    event = event_admin.draft_uniform_event(
        order.signal[0],
        order.signal[1],
        list(order.values),
        QUARTER,
        default_unit(*order.signal),
        market_context=GRID_PROGRAM,
        dtstart=order.start,
        now=now,
        near_window=vtn.ctx.config.near_window,
        target=m.Target(ven_ids=ven_ids),
        priority=order.priority,
        event_id=f"{name}-{int(now.timestamp())}",
    )
    if order.baseline_kw is not None:
        interval = m.Interval(order.end - order.start, order.baseline_kw, 0, dtstart=order.start)
        event = replace(event, baseline=m.Signal("baseline", "x-baseline", "baseline", (interval,), unit=kw_unit()))
    return await vtn.admin(event_admin.create_event, event, order.source, now)


async def _registered(process: VenProcess, timeout: float = 60.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not all(v.site.registration for v in process.vens.values()):
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError("the site VENs did not register with the VTN within 60 s")
        await asyncio.sleep(0.2)


async def _held(process: VenProcess, wanted: dict[str, set[str]], timeout: float = 60.0) -> None:
    """Wait until each site holds, and has answered, exactly the events `wanted` gives it."""
    hooks = process.hooks
    assert isinstance(hooks, FlexMeasuresHooks)
    deadline = asyncio.get_running_loop().time() + timeout

    def done() -> bool:
        for site, event_ids in wanted.items():
            held = hooks.held_events(site)
            if set(held) != event_ids or any(held[e].opt_type is None for e in event_ids):
                return False
        return True

    while not done():
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"the VEN did not take every scenario's events within {timeout:.0f} s")
        await asyncio.sleep(0.2)


def _noise(run: SiteRun, inside: list[int]) -> float:
    """How far a slot may dip below zero without the site exporting by decision: the devices follow the plan
    made on the household's forecast, and the household itself wanders ±5 % around it."""
    return max(TOLERANCE_KW, 0.06 * max(run.baseline_kw[i] for i in inside))


def judge(scenario: Scenario, runs: list[SiteRun]) -> None:
    """Every property the issue asks of the scenario's family, recorded on each site's run."""
    start, end = scenario.window
    for run in runs:
        device = run.site.device
        assert device is not None
        during = run.mean(run.import_kw, start, end)
        base = run.mean(run.baseline_kw, start, end)
        inside = [i for i, s in enumerate(run.slots) if start <= s < end]
        exporting = min(run.import_kw[i] for i in inside)
        if scenario.name == "alert":
            if run.kind == "pv":
                run.check("nothing to shed at night: optOut", run.opt == OptType.OPT_OUT, f"opt {run.opt}")
                continue
            asked = [i for i in inside if run.slots[i] in run.ceiling_kw]
            ceiling = sum(run.ceiling_kw[run.slots[i]] for i in asked) / len(asked) if asked else math.nan
            held = sum(run.import_kw[i] for i in asked) / len(asked) if asked else math.nan
            run.check("optIn", run.opt == OptType.OPT_IN, f"opt {run.opt}")
            run.check(
                "imports at most what the alert asks, where it asks",
                held <= ceiling + TOLERANCE_KW,
                f"{held:.2f} ≤ {ceiling:.2f} kW over {len(asked)} of {len(inside)} quarter hours",
            )
            run.check("no export", exporting >= -_noise(run, inside), f"lowest import {exporting:.2f} kW")
            prepared = [i for i, s in enumerate(run.slots) if s in run.prepared_kw and s < start]
            over = max((run.import_kw[i] - run.prepared_kw[run.slots[i]] for i in prepared), default=0.0)
            run.check("no pre-event import above the program's limit", over <= TOLERANCE_KW + 0.2, f"at most {over:+.2f} kW")
            if device.kind in ("evse", "v2g"):
                charging = max(run.device_kw[i] for i in inside)
                run.check("no charging during the alert", charging <= 0.05, f"highest {charging:.2f} kW")
        if scenario.name == "price-peak":
            charging = max(run.device_kw[i] for i in inside)
            run.check("no charging in the expensive window", charging <= 0.05, f"highest {charging:.2f} kW")
        if scenario.name == "up-modulation":
            floor = sum(run.floor_kw.get(run.slots[i], math.nan) for i in inside) / len(inside)
            run.check("consumes more in the window", during >= base + 5.0 - TOLERANCE_KW, f"{during:.2f} vs baseline {base:.2f}")
            run.check("at least the floor", during >= floor - TOLERANCE_KW, f"{during:.2f} ≥ {floor:.2f} kW")
        if scenario.name == "delta-baseline":
            run.check("2 kW under the event's baseline of 4 kW", during <= 2.0 + TOLERANCE_KW, f"{during:.2f} kW")
            run.check("no export", exporting >= -_noise(run, inside), f"lowest import {exporting:.2f} kW")
        if scenario.name == "pv-export-cap":
            run.check("export at most 1 kW", exporting >= -1.0 - TOLERANCE_KW, f"highest export {-exporting:.2f} kW")
            base_export = -min(run.baseline_kw[i] for i in inside)
            run.check("curtailed (the baseline exported more)", base_export > 1.0 + TOLERANCE_KW, f"{base_export:.2f} kW")
        if scenario.name == "dso-over-aggregator":
            highest = max(run.import_kw[i] for i in inside)
            run.check("the DSO's 5 kW cap holds", highest <= 5.0 + TOLERANCE_KW, f"highest import {highest:.2f} kW")
        if device.kind in STORAGE_KINDS and device.kind != "evse":
            at = sessions(device, run.slots[0], run.slots[-1], MQ)
            soc0 = start_soc_kwh(device, at, run.slots[0], None)
            comes_back = [s.arrival_kwh for s in at if s.arrival > run.slots[0]]
            reserve = min(device.capacity_kwh * device.reserve_percent / 100, soc0, *comes_back)
            lowest = min(
                soc
                for soc, s in zip(run.soc_kwh, run.slots, strict=True)
                if device.kind == "battery" or any(x.plugged(s) for x in at)
            )
            run.check(
                "never below the reserve (or where it came back)",
                lowest >= reserve - 0.1,
                f"lowest {lowest:.1f} kWh, reserve {reserve:.1f}",
            )
        for session in sessions(device, run.slots[0], run.slots[-1] + QUARTER, MQ):
            if session.departure in run.slots and session.arrival >= run.slots[0]:
                held = run.soc_kwh[run.slots.index(session.departure) - 1]
                run.check(
                    "EV target met at departure",
                    held >= session.target_kwh - 0.5,
                    f"{held:.1f} of {session.target_kwh:.1f} kWh at {session.departure.astimezone(MQ):%H:%M}",
                )

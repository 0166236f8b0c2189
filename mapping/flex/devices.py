"""A site's device, as the scheduler must see it: what it holds, when it is there, what it would do without
any event, and its FlexMeasures 1.0 flex-model. Pure: the state (state of charge, the clock) is passed in.

Kinds: a home battery (owner's reserve, round-trip efficiency), an EV behind a one-way charger (`evse`) or a
two-way one (`v2g`, never below the mobility reserve), each with a charging session (arrival, departure,
state of charge on arrival and needed at departure), and PV (curtailable, never asked to produce more than
its forecast). Sign convention: consumption positive.
"""

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo
from typing import Any

from mapping.grid import QUARTER, Segment
from mapping.oadr.timefmt import format_datetime, format_duration
from mapping.refusal import Refused

STORAGE_KINDS = ("battery", "v2g", "evse")
EV_KINDS = ("v2g", "evse")
KINDS = (*STORAGE_KINDS, "pv")


@dataclass(frozen=True)
class Device:
    """One site's device and its owner's settings (sites.toml [sites.asset])."""

    kind: str
    power_kw: float
    capacity_kwh: float = 0.0
    #: battery: the owner's reserve; v2g: the mobility reserve (share of capacity, %): never discharged below
    reserve_percent: float = 10.0
    roundtrip_efficiency_percent: float = 90.0
    #: EVs: plugged in daily from `arrival` to `departure` (local times; departure the next day when earlier)
    arrival: time = time(17, 30)
    departure: time = time(7, 0)
    arrival_soc_percent: float = 30.0
    departure_soc_percent: float = 80.0
    #: PV: its peak power (kW)
    peak_kw: float = 0.0


@dataclass(frozen=True)
class Session:
    """An EV's stay at its charger: [arrival, departure), its energy on arrival and what it needs at departure."""

    arrival: datetime
    departure: datetime
    arrival_kwh: float
    target_kwh: float

    def plugged(self, at: datetime) -> bool:
        """Whether the EV is at its charger at `at`."""
        return self.arrival <= at < self.departure


def check_device(device: Device) -> Device:
    """`device` when its settings make sense, else Refused naming the field."""
    if device.kind not in KINDS:
        raise Refused("kind", f"expected one of {', '.join(KINDS)}, got {device.kind!r}")
    if device.power_kw <= 0:
        raise Refused("power_kw", "must be a positive number of kW")
    if device.kind in STORAGE_KINDS and device.capacity_kwh <= 0:
        raise Refused("capacity_kwh", "must be a positive number of kWh")
    for name in ("reserve_percent", "arrival_soc_percent", "departure_soc_percent"):
        if not 0.0 <= getattr(device, name) <= 100.0:
            raise Refused(name, "must be a share of the capacity between 0 and 100 %")
    if not 0.0 < device.roundtrip_efficiency_percent <= 100.0:
        raise Refused("roundtrip_efficiency_percent", "must be above 0 and at most 100 %")
    return device


def sessions(device: Device, start: datetime, end: datetime, zone: tzinfo) -> list[Session]:
    """The EV's daily sessions that overlap [start, end) (none for other kinds), from its configured times."""
    if device.kind not in EV_KINDS:
        return []
    found = []
    day = (start.astimezone(zone) - timedelta(days=1)).date()
    while True:
        arrival = datetime.combine(day, device.arrival, zone)
        departure = datetime.combine(day, device.departure, zone)
        if departure <= arrival:
            departure += timedelta(days=1)
        if arrival >= end:
            return found
        if departure > start:
            capacity = device.capacity_kwh
            found.append(
                Session(
                    arrival,
                    departure,
                    capacity * device.arrival_soc_percent / 100,
                    capacity * device.departure_soc_percent / 100,
                )
            )
        day += timedelta(days=1)


def uncontrolled_kw(device: Device, session: Session, slot: datetime) -> float:
    """What the EV draws in the 15-minute slot at `slot` charging as it would without any control: full power
    from arrival until it holds what it needs (the counterfactual a request is measured against)."""
    if not session.plugged(slot):
        return 0.0
    hours_before = max((slot - session.arrival) / timedelta(hours=1), 0.0)
    needed = max(session.target_kwh - session.arrival_kwh - device.power_kw * hours_before, 0.0)
    return min(device.power_kw, needed / (QUARTER / timedelta(hours=1)))


def expected_kw(device: Device, at_sessions: list[Session], pv_kw: float, slot: datetime) -> float:
    """The device's own net consumption in a slot without any event: an idle battery, an EV charging
    uncontrolled, PV producing its forecast (negative)."""
    if device.kind == "pv":
        return -pv_kw
    return sum(uncontrolled_kw(device, s, slot) for s in at_sessions)


def flexible_kw(
    device: Device, at_sessions: list[Session], household_kw: float, slot: datetime, plan_start: datetime | None = None
) -> float:
    """How much of the site's expected import the device can take away in a slot: charging it can stop plus
    what it can discharge to cover the household (never to export), while it is there — a V2G car only when it
    holds more than its mobility reserve (on arrival, or at `plan_start` for a stay under way then)."""
    if device.kind == "pv":
        return 0.0  # producing less never lowers the import
    charging = sum(uncontrolled_kw(device, s, slot) for s in at_sessions)
    if device.kind == "battery":
        can_cover = True
    elif device.kind == "v2g":
        can_cover = any(s.plugged(slot) and _above_reserve(device, at_sessions, s, plan_start) for s in at_sessions)
    else:
        can_cover = False
    covering = min(device.power_kw, max(household_kw, 0.0)) if can_cover else 0.0
    return charging + covering


def _above_reserve(device: Device, at_sessions: list[Session], stay: Session, plan_start: datetime | None) -> bool:
    """Whether the car holds more than its mobility reserve when `stay` begins (or at `plan_start`, inside it):
    what it may give the household without first charging for it, which an alert forbids."""
    held = stay.arrival_kwh
    if plan_start is not None and stay.plugged(plan_start):
        held = start_soc_kwh(device, at_sessions, plan_start, None)
    return held > device.capacity_kwh * device.reserve_percent / 100 + 1e-9


def driving_kw(at_sessions: list[Session], slot: datetime) -> float:
    """What the EV's battery loses per hour while it is away between two sessions: it leaves with its target and
    comes back with what it holds on arrival (FlexMeasures' `soc-usage`; 0 while plugged in)."""
    for left, back in zip(at_sessions, at_sessions[1:], strict=False):
        if left.departure <= slot < back.arrival:
            hours = (back.arrival - left.departure) / timedelta(hours=1)
            return max(left.target_kwh - back.arrival_kwh, 0.0) / hours
    return 0.0


def start_soc_kwh(device: Device, at_sessions: list[Session], start: datetime, soc_percent: float | None) -> float:
    """What the storage holds when a plan starts: the measured share (clamped to 0–100 %) while it is there;
    an EV not plugged in yet, what it holds on arrival; unknown, half full."""
    capacity = device.capacity_kwh
    present = device.kind == "battery" or any(s.plugged(start) for s in at_sessions)
    if soc_percent is not None and present:
        return capacity * min(max(soc_percent, 0.0), 100.0) / 100
    if device.kind in EV_KINDS and at_sessions and not at_sessions[0].plugged(start):
        return at_sessions[0].arrival_kwh
    return capacity / 2


def missed_departures(
    device: Device, soc_percent: float | None, schedule_kw: list[float], start: datetime, zone: tzinfo
) -> list[tuple[datetime, float, float]]:
    """(departure, kWh held, kWh needed) of every EV departure in the schedule's window that leaves short of
    its target by more than 0.5 kWh, following the schedule from where it starts (charging at the square
    root of the round-trip efficiency, as FlexMeasures splits it)."""
    if device.kind not in EV_KINDS or not schedule_kw:
        return []
    end = start + len(schedule_kw) * QUARTER
    at = sessions(device, start, end, zone)
    soc = start_soc_kwh(device, at, start, soc_percent)
    one_way = math.sqrt(device.roundtrip_efficiency_percent / 100)
    held_at: dict[datetime, float] = {}
    hours = QUARTER / timedelta(hours=1)
    for index, kw in enumerate(schedule_kw):
        soc -= driving_kw(at, start + index * QUARTER) * hours
        soc += kw * hours * one_way if kw >= 0 else kw * hours / one_way
        held_at[start + (index + 1) * QUARTER] = soc
    return [
        (s.departure, held_at[s.departure], s.target_kwh)
        for s in at
        if s.departure in held_at and held_at[s.departure] < s.target_kwh - 0.5
    ]


def _segments(values: list[tuple[datetime, float]], unit: str) -> list[dict[str, str]]:
    """Slot values as FlexMeasures segments, equal neighbours merged."""
    merged: list[Segment] = []
    for slot, value in values:
        last = merged[-1] if merged else None
        if last is not None and last.end == slot and math.isclose(last.value, value):
            merged[-1] = Segment(last.start, slot + QUARTER, value)
        else:
            merged.append(Segment(slot, slot + QUARTER, value))
    return [
        {"start": format_datetime(s.start), "duration": format_duration(s.duration), "value": f"{s.value:g} {unit}"}
        for s in merged
    ]


def _slots(start: datetime, end: datetime) -> list[datetime]:
    return [start + i * QUARTER for i in range(int((end - start) / QUARTER))]


def flex_model(
    device: Device,
    power_sensor: int,
    start: datetime,
    end: datetime,
    soc_percent: float | None,
    zone: tzinfo,
    pv_forecast_kw: Callable[[datetime], float] | None = None,
    usage_kw: Sequence[tuple[datetime, float]] = (),
) -> dict[str, Any]:
    """The device's flex-model for a schedule over [start, end) (slots of `mapping.grid`).

    What the storage's S2 Resource Manager says of itself comes in as `usage_kw` (its usage forecast and leakage
    by slot: positive drains it, negative fills it), as FlexMeasures' `soc-usage` and `soc-gain` (mapping/s2.py).

    A storage device starts from `soc_percent` (measured), else half full — an EV from what it holds on
    arrival when it is not plugged in yet; it never goes below its reserve (or below where it starts, when
    it starts under it). An EV can only charge (a V2G car also discharge) while plugged in, and must hold its
    departure target at departure (`soc-minima`); a battery (and a V2G car with no departure in the window)
    ends the plan holding at least what it starts with. PV produces at most its forecast (curtailable)."""
    slots = _slots(start, end)
    if device.kind == "pv":
        forecast = pv_forecast_kw or (lambda _slot: 0.0)
        return {
            "sensor": power_sensor,
            "consumption-capacity": "0 kW",
            "production-capacity": _segments([(s, max(forecast(s), 0.0)) for s in slots], "kW"),
        }
    capacity = device.capacity_kwh
    at = sessions(device, start, end, zone)
    soc_kwh = start_soc_kwh(device, at, start, soc_percent)
    # never below the reserve, nor below what it starts or comes back with (hard: FlexMeasures fails a plan that
    # starts under it)
    floor_kwh = min([soc_kwh, *(s.arrival_kwh for s in at if s.arrival > start)])
    reserve = min(capacity * device.reserve_percent / 100, floor_kwh) if device.kind != "evse" else 0.0
    model: dict[str, Any] = {
        "sensor": power_sensor,
        "soc-at-start": f"{soc_kwh:g} kWh",
        "soc-min": f"{reserve:g} kWh",
        "soc-max": f"{capacity:g} kWh",
        "power-capacity": f"{device.power_kw:g} kW",
        "roundtrip-efficiency": f"{device.roundtrip_efficiency_percent:g}%",
    }
    rm_usage = [(s, kw) for s, kw in usage_kw if start <= s < end]
    if any(kw > 0 for _, kw in rm_usage):
        model["soc-usage"] = [_segments([(s, max(kw, 0.0)) for s, kw in rm_usage], "kW")]
    if any(kw < 0 for _, kw in rm_usage):
        model["soc-gain"] = [_segments([(s, -kw if kw < 0 else 0.0) for s, kw in rm_usage], "kW")]
    if device.kind == "battery":
        # it ends the plan holding at least what it starts with: FlexMeasures gives stored energy no value of its
        # own, and would otherwise empty the battery into the household for nothing; with this, it moves
        # energy only where events or prices make that worth its losses
        model["soc-minima"] = [{"datetime": format_datetime(end), "value": f"{soc_kwh:g} kWh"}]
        return model
    there = [(s, device.power_kw if any(x.plugged(s) for x in at) else 0.0) for s in slots]
    model["consumption-capacity"] = _segments(there, "kW")
    drain = [(s, driving_kw(at, s)) for s in slots]
    if any(kw > 0 for _, kw in drain):  # beside the RM's own usage forecast, if any: FlexMeasures adds them up
        model["soc-usage"] = [*model.get("soc-usage", []), _segments(drain, "kW")]
    model["production-capacity"] = _segments(there, "kW") if device.kind == "v2g" else "0 kW"
    minima = [
        {"datetime": format_datetime(s.departure), "value": f"{max(s.target_kwh, reserve):g} kWh"}
        for s in at
        if start < s.departure <= end
    ]
    if not minima and device.kind == "v2g":  # no departure in sight: like a battery, it keeps what it holds
        minima = [{"datetime": format_datetime(end), "value": f"{soc_kwh:g} kWh"}]
    if minima:
        model["soc-minima"] = minima
    return model

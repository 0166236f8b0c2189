"""What an OpenADR event asks of a site, as FlexMeasures-ready constraints. Pure.

Sign convention: consumption (import) is positive. A limit is a maximum in kW; prices are in the
site's currency per kWh (energy) or per kW (peak demand); state-of-charge targets are kWh at an
instant.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from mapping.flex.units import UnitRefused, energy_kwh, power_kw, price_per_kw, price_per_kwh
from mapping.oadr import model as m
from mapping.refusal import Refused

IMPORT_LIMIT, EXPORT_LIMIT = "import_limit_kw", "export_limit_kw"
PRICE, PEAK_PRICE = "consumption_price_per_kwh", "peak_consumption_price_per_kw"
SOC_TARGET, SOC_MINIMUM = "soc_target_kwh", "soc_minimum_kwh"
#: kinds whose stricter value is the lower one (limits) — for the others the higher one is stricter
LOWER_IS_STRICTER = (IMPORT_LIMIT, EXPORT_LIMIT)
INSTANT_KINDS = (SOC_TARGET, SOC_MINIMUM)


class SignalRefused(Refused):
    """A signal this site cannot turn into constraints: the field is the signal's name; the message goes to optOut."""


@dataclass(frozen=True)
class SiteFacts:
    """What the mapping needs to know about a site."""

    contracted_kw: float
    baseline_kw: float = 0.0
    #: import capacity as a share of contracted power for SIMPLE levels 0, 1, 2, 3
    simple_factors: tuple[float, float, float, float] = (1.0, 0.75, 0.5, 0.25)
    base_price_per_kwh: float | None = None
    storage_capacity_kwh: float | None = None
    currency: str = "EUR"


@dataclass(frozen=True)
class Constraint:
    """One requirement over [start, end) (instants: start == end) from one event interval."""

    kind: str
    start: datetime
    end: datetime
    value: float
    priority: int
    event_id: str


def _priority_rank(priority: int | None) -> int:
    """Lower rank wins: 2.0b priority 1 is highest; 0 or absent means none (lowest)."""
    return priority if priority and priority > 0 else 2**31


def _level_factor(site: SiteFacts, level: float, name: str) -> float:
    index = int(round(level))
    if not 0 <= index <= 3 or abs(level - index) > 1e-9:
        raise SignalRefused(name, f"level {level:g} is not one of 0, 1, 2, 3")
    return site.simple_factors[index]


def _limit_for(signal: m.Signal, value: float, site: SiteFacts) -> tuple[str, float] | None:
    """(kind, value) of one interval value, None when the signal asks nothing of FlexMeasures."""
    name, kind, unit = signal.name, signal.type, signal.unit
    if name == "x-IMPORT_CAPACITY_LIMIT":
        return IMPORT_LIMIT, power_kw(value, unit)
    if name == "x-EXPORT_CAPACITY_LIMIT":
        return EXPORT_LIMIT, power_kw(value, unit)
    if name in ("SIMPLE", "simple"):
        return IMPORT_LIMIT, site.contracted_kw * _level_factor(site, value, name)
    if name == "LOAD_DISPATCH":
        if kind == "setpoint":
            return IMPORT_LIMIT, power_kw(value, unit)
        if kind == "delta":
            return IMPORT_LIMIT, site.baseline_kw + power_kw(value, unit)  # negative delta = reduce
        if kind == "multiplier":
            return IMPORT_LIMIT, site.baseline_kw * value
    if name == "LOAD_CONTROL":
        if kind == "x-loadControlCapacity":
            if not 0.0 <= value <= 1.0:
                raise SignalRefused(name, f"x-loadControlCapacity {value:g} is outside 0–1")
            return IMPORT_LIMIT, site.contracted_kw * value
        if kind == "x-loadControlPercentOffset":
            return IMPORT_LIMIT, site.baseline_kw * (1.0 + value / 100.0)
        if kind == "x-loadControlLevelOffset":
            return IMPORT_LIMIT, site.contracted_kw * _level_factor(site, max(0.0, min(3.0, value)), name)
        if kind == "x-loadControlSetpoint":
            return IMPORT_LIMIT, power_kw(value, unit)
    if name in ("ELECTRICITY_PRICE", "ENERGY_PRICE"):
        if kind == "price":
            return PRICE, price_per_kwh(value, unit, site.currency)
        if site.base_price_per_kwh is None:
            raise SignalRefused(name, f"{kind} needs the site's base price, which is not configured")
        if kind == "priceRelative":
            return PRICE, site.base_price_per_kwh + price_per_kwh(value, unit, site.currency)
        if kind == "priceMultiplier":
            return PRICE, site.base_price_per_kwh * value
    if name == "DEMAND_CHARGE" and kind == "price":
        return PEAK_PRICE, price_per_kw(value, unit, site.currency)
    if name == "CHARGE_STATE":
        if site.storage_capacity_kwh is None:
            raise SignalRefused(name, "needs a battery or EV at the site")
        if kind == "setpoint":
            return SOC_TARGET, min(energy_kwh(value, unit), site.storage_capacity_kwh)
        if kind == "x-loadControlLevelOffset":
            raise SignalRefused(name, "level offsets are not supported")
    if name.startswith("BID_"):
        return None  # bids are recorded and acknowledged, not constraints
    raise SignalRefused(name, f"the signal of type {kind} is not supported")


def event_constraints(event: m.Event, site: SiteFacts) -> list[Constraint]:
    """Every constraint of an event (limits capped by the contracted power); refuses what it cannot express."""
    constraints: list[Constraint] = []
    rank = _priority_rank(event.priority)
    for signal in event.signals:
        cursor = event.dtstart
        for interval in signal.intervals:
            start = interval.dtstart or cursor
            end = start + interval.duration if interval.duration > timedelta(0) else event.dtstart + event.duration
            cursor = end
            try:
                mapped = _limit_for(signal, interval.value, site)
            except UnitRefused as exc:
                raise SignalRefused(f"{signal.name}.{exc.field}", exc.reason) from exc
            if mapped is None:
                continue
            kind, value = mapped
            if kind in LOWER_IS_STRICTER:
                if value < 0:
                    raise SignalRefused(signal.name, f"asks for a negative {kind.split('_')[0]} limit ({value:g} kW)")
                value = min(value, site.contracted_kw)
            if kind in INSTANT_KINDS:
                start = end  # a state-of-charge target applies at the end of its interval
            constraints.append(Constraint(kind, start, end, value, rank, event.event_id))
    return constraints

"""Series of the data items per site or group, on steps of 15 minutes or more → one event per site.

`{"series_id", "site" | "group", "item": "max_power" | "price" | "carbon", "unit", "start",
"step_minutes", "values": [...]}`:

- max_power → x-IMPORT_CAPACITY_LIMIT setpoint in kW (a group's values are the group's totals,
  shared in proportion to subscribed power); every site's value is capped by its subscribed power;
- price → ELECTRICITY_PRICE price in EUR/kWh (the same price for every site of a group);
- carbon → x-CARBON_INTENSITY level, customUnit kgCO2e/kWh — or, for a site whose objective is
  `co2`, ELECTRICITY_PRICE price carrying the intensity, so its schedules minimise CO2 as if it were
  a cost (such a site refuses price series: its price signal is taken by carbon).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from mapping.flexready.clock import MAX_SLOTS, grid_time, step
from mapping.flexready.orders import client_id_of
from mapping.flexready.plans import CARBON_SIGNAL, IMPORT_LIMIT, PRIORITY, SitePlan, carbon_unit, kw_unit, price_unit
from mapping.flexready.sites import Portfolio, addressed, check_cap, split
from mapping.flexready.units import UNITS, finite, unit_factor
from mapping.grid import QUARTER
from mapping.openadr3 import wire
from mapping.refusal import Refused

ITEMS = ("max_power", "price", "carbon")
FIELDS = {"series_id", "site", "group", "item", "unit", "start", "step_minutes", "values"}
#: plausible bounds, in the canonical unit, beyond which a value is a mistake
BOUNDS = {"max_power": (0.0, 1e6), "price": (-100.0, 100.0), "carbon": (0.0, 10.0)}


@dataclass(frozen=True)
class Series:
    """A checked series and the events it becomes."""

    series_id: str
    item: str
    group: str | None
    sites: tuple[str, ...]
    start: datetime
    step: timedelta
    values: tuple[float, ...]
    plans: tuple[SitePlan, ...]


def parse_series(body: Any, portfolio: Portfolio) -> Series:
    """Check a series body; Refused names the first bad field (`values[3]` for one value)."""
    body = wire.obj(body, "body")
    unknown = sorted(set(body) - FIELDS)
    if unknown:
        raise Refused(unknown[0], "is not a field of a series")
    series_id = client_id_of(body.get("series_id"), "series_id")
    item = body.get("item")
    if item not in ITEMS:
        raise Refused("item", f"expected one of {', '.join(ITEMS)}")
    group, sites = addressed(body, portfolio)
    factor = unit_factor(item, body.get("unit"), "unit")
    start = grid_time(body.get("start"), "start")
    length = step(body.get("step_minutes", 15))
    raw = body.get("values")
    if not isinstance(raw, list) or not raw:
        raise Refused("values", "expected a non-empty array of numbers")
    if len(raw) * (length / QUARTER) > MAX_SLOTS:
        raise Refused("values", f"a series covers at most {MAX_SLOTS} quarter hours (7 days)")
    low, high = BOUNDS[item]
    values = tuple(finite(v, f"values[{n}]") * factor for n, v in enumerate(raw))
    for n, value in enumerate(values):
        if not low <= value <= high:
            raise Refused(f"values[{n}]", f"{value:g} {next(iter(UNITS[item]))} is outside {low:g} to {high:g}")
    plans = tuple(_plans(series_id, item, sites, start, length, values, portfolio))
    return Series(series_id, item, group, sites, start, length, values, plans)


def _plans(
    series_id: str, item: str, sites: tuple[str, ...], start: datetime, length: timedelta, values: tuple[float, ...], p: Portfolio
) -> list[SitePlan]:
    per_site: dict[str, list[float]] = {s: [] for s in sites}
    for n, value in enumerate(values):
        shares = split(value, sites, p) if item == "max_power" else dict.fromkeys(sites, value)
        if item == "max_power":
            check_cap(shares, p, f"values[{n}]")
        for site, share in shares.items():
            per_site[site].append(round(share, 6))
    plans = []
    for site, site_values in per_site.items():
        objective = p.sites[site].objective
        if item == "price" and objective == "co2":
            raise Refused("item", f"site {site} minimises CO2: its price signal carries carbon intensity, not prices")
        if item == "max_power":
            name, kind, unit, priority = IMPORT_LIMIT, "setpoint", kw_unit(), PRIORITY["max_power"]
        elif item == "price" or objective == "co2":
            name, kind, unit, priority = "ELECTRICITY_PRICE", "price", price_unit(), PRIORITY["price"]
        else:
            name, kind, unit, priority = CARBON_SIGNAL, "level", carbon_unit(), PRIORITY["carbon"]
        as_price = item == "carbon" and name != CARBON_SIGNAL
        comment = f"aggregator series {series_id}: {item}" + (" as a CO2 price" if as_price else "")
        plans.append(SitePlan(site, start, length, tuple(site_values), name, kind, unit, priority, comment))
    return plans

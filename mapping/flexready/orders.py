"""Orders: activate (or modify) a flexibility window for a site or a group → one event per site.

`{"client_order_id", "site" | "group", "start", "end", "direction": "down" | "up", "power_kw",
"mode": "limit" | "delta"}`. Direction is the site's consumption: `down` consumes less, `up` more.

- limit / down → x-IMPORT_CAPACITY_LIMIT setpoint, `power_kw` (an import cap);
- delta / down → LOAD_DISPATCH delta −`power_kw` (consume that much less than the baseline);
- delta / up   → LOAD_DISPATCH delta +`power_kw` (consume that much more);
- limit / up   → refused: a floor on consumption is not an import cap and 2.0b has no signal for it.

A group's `power_kw` is the group's total, shared among its sites in proportion to their offered
flexibility when every site's offer is known (`weights`), else to their subscribed power.
Every site's share is capped by its subscribed power (kVA × power factor).
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mapping.flexready.clock import window
from mapping.flexready.plans import IMPORT_LIMIT, PRIORITY, SitePlan, kw_unit
from mapping.flexready.sites import Portfolio, addressed, check_cap, split
from mapping.flexready.units import finite, unit_factor
from mapping.grid import QUARTER
from mapping.openadr3 import wire
from mapping.refusal import Refused
from mapping.shares import proportional

DIRECTIONS = ("down", "up")
MODES = ("limit", "delta")
FIELDS = {"client_order_id", "site", "group", "start", "end", "direction", "power_kw", "power", "unit", "mode"}


@dataclass(frozen=True)
class Order:
    """A checked order and the events it becomes."""

    client_order_id: str
    group: str | None
    sites: tuple[str, ...]
    start: datetime
    slots: int
    direction: str
    mode: str
    power_kw: float
    plans: tuple[SitePlan, ...]


def client_id_of(value: Any, field: str) -> str:
    """An idempotency key: letters, digits, `_` and `-`, 1–128 characters."""
    return str(wire.object_id(value, field))


def _power(body: dict[str, Any]) -> float:
    """`power_kw`, or `power` with a `unit` (kW, W, MW)."""
    if "power_kw" in body:
        return finite(body["power_kw"], "power_kw", 0.0)
    if "power" not in body:
        raise Refused("power_kw", "is required (kW, or power with a unit)")
    return finite(body["power"], "power", 0.0) * unit_factor("power", body.get("unit"), "unit")


def parse_order(
    body: Any, portfolio: Portfolio, client_order_id: str | None = None, weights: Mapping[str, float] | None = None
) -> Order:
    """Check an order body; Refused names the first bad field. `client_order_id` given = a modification of it.
    A group's power is shared by `weights` (each site's offered kW, `mapping.flexready.offers.shares`) when
    given, else by subscribed power."""
    body = wire.obj(body, "body")
    unknown = sorted(set(body) - FIELDS)
    if unknown:
        raise Refused(unknown[0], "is not a field of an order")
    order_id = client_id_of(body.get("client_order_id", client_order_id), "client_order_id")
    if client_order_id is not None and order_id != client_order_id:
        raise Refused("client_order_id", "differs from the order in the path")
    group, sites = addressed(body, portfolio)
    start, slots = window(body.get("start"), body.get("end"))
    direction = body.get("direction")
    if direction not in DIRECTIONS:
        raise Refused("direction", "expected down (consume less) or up (consume more)")
    mode = body.get("mode", "limit")
    if mode not in MODES:
        raise Refused("mode", "expected limit (an import cap) or delta (a change from the baseline)")
    power = _power(body)
    if mode == "limit" and direction == "up":
        raise Refused("mode", "an upward limit (a consumption floor) cannot be expressed in OpenADR 2.0b; use mode delta")
    shares = (
        proportional(power, {s: weights.get(s, 0.0) for s in sites}) if weights is not None else split(power, sites, portfolio)
    )
    check_cap(shares, portfolio, "power_kw" if "power_kw" in body else "power")
    plans = tuple(_plan(site, kw, start, slots, direction, mode, order_id) for site, kw in shares.items())
    return Order(order_id, group, sites, start, slots, direction, mode, power, plans)


def _plan(site: str, kw: float, start: datetime, slots: int, direction: str, mode: str, order_id: str) -> SitePlan:
    if mode == "limit":
        name, kind, value = IMPORT_LIMIT, "setpoint", kw
    else:
        name, kind, value = "LOAD_DISPATCH", "delta", -kw if direction == "down" else kw
    return SitePlan(
        site=site,
        start=start,
        step=QUARTER,
        values=(round(value, 6),) * slots,
        signal_name=name,
        signal_type=kind,
        unit=kw_unit(),
        priority=PRIORITY["order"],
        comment=f"aggregator order {order_id}: {mode} {direction} {kw:g} kW",
    )

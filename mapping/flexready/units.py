"""Units of the data items, converted explicitly to what the OpenADR events carry:
power in kW, price in EUR/kWh, carbon intensity in kgCO2e/kWh, subscribed power in kVA."""

import math

from mapping.refusal import Refused

#: item → {accepted unit: factor to the canonical unit}; the first unit listed is the canonical one
UNITS: dict[str, dict[str, float]] = {
    "max_power": {"kW": 1.0, "W": 1e-3, "MW": 1e3},
    "price": {"EUR/kWh": 1.0, "EUR/MWh": 1e-3, "c€/kWh": 1e-2},
    "carbon": {"kgCO2e/kWh": 1.0, "gCO2e/kWh": 1e-3, "tCO2e/MWh": 1.0},
    "power": {"kW": 1.0, "W": 1e-3, "MW": 1e3},
}


def canonical(item: str) -> str:
    """The unit an item is carried in (kW, EUR/kWh, kgCO2e/kWh)."""
    return next(iter(UNITS[item]))


def unit_factor(item: str, unit: object, field: str = "unit") -> float:
    """The factor from `unit` to the item's canonical unit; an unknown unit is refused naming the field."""
    table = UNITS[item]
    if unit is None:
        return 1.0
    if not isinstance(unit, str) or unit not in table:
        raise Refused(field, f"{unit!r} is not a unit of {item} (accepted: {', '.join(table)})")
    return table[unit]


def to_canonical(item: str, value: float, unit: object, field: str = "unit") -> float:
    """`value` in `unit` converted to the item's canonical unit."""
    return value * unit_factor(item, unit, field)


def kva_to_kw(kva: float, power_factor: float) -> float:
    """The real power a subscription allows: kVA × power factor (cos φ)."""
    return kva * power_factor


def finite(value: object, field: str, low: float | None = None, high: float | None = None) -> float:
    """A finite number within [low, high], else Refused naming `field`."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Refused(field, "expected a number")
    try:
        value = float(value)  # a JSON integer may be too large for a float
    except OverflowError as exc:
        raise Refused(field, "expected a number within the range of a double") from exc
    if not math.isfinite(value):
        raise Refused(field, "expected a finite number")
    if low is not None and value < low:
        raise Refused(field, f"must be at least {low:g}")
    if high is not None and value > high:
        raise Refused(field, f"must be at most {high:g}")
    return value

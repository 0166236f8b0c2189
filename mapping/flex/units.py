"""Explicit unit conversion of 2.0b itemBase values: power to kW, energy to kWh, prices to EUR.

`SCALES` is the one table of 2.0b SI scale codes: the VEN's opt policy and the signal mapping both
convert through `power_kw` & co., and an unknown code is refused naming it, never guessed.
"""

from mapping.oadr.model import ItemUnit
from mapping.refusal import Refused

#: SI scale codes of 2.0b (siScaleCode) and their multipliers
SCALES = {
    "p": 1e-12,
    "n": 1e-9,
    "micro": 1e-6,
    "m": 1e-3,
    "c": 1e-2,
    "d": 1e-1,
    "none": 1.0,
    "k": 1e3,
    "M": 1e6,
    "G": 1e9,
    "T": 1e12,
}
_POWER_KINDS = ("powerReal", "powerApparent")
_ENERGY_KINDS = ("energyReal", "energyApparent")
#: openleadr writes the per-kW price element with several spellings; all mean currency per kW
_PER_KW_DESCRIPTIONS = ("currencyPerKW", "currencyPerKw", "currencyperKW", "currencyPerKilowatt")


class UnitRefused(Refused):
    """A value whose unit cannot be converted to what FlexMeasures needs: the itemBase part and why."""


def _scale(unit: ItemUnit) -> float:
    try:
        return SCALES[unit.scale]
    except KeyError as exc:
        raise UnitRefused("siScaleCode", f"{unit.scale!r} is not a 2.0b scale ({', '.join(SCALES)})") from exc


def power_kw(value: float, unit: ItemUnit | None) -> float:
    """A power in kW; a signal without a unit is taken as kW (the Cariflex programs' convention)."""
    if unit is None:
        return value
    if unit.kind not in _POWER_KINDS or unit.units not in ("W", "VA"):
        raise UnitRefused("itemBase", f"{unit.kind} in {unit.units} is not a power (W or VA)")
    return value * _scale(unit) / 1e3


def energy_kwh(value: float, unit: ItemUnit | None) -> float:
    """An energy in kWh; a signal without a unit is taken as kWh."""
    if unit is None:
        return value
    if unit.kind not in _ENERGY_KINDS or unit.units not in ("Wh", "VAh"):
        raise UnitRefused("itemBase", f"{unit.kind} in {unit.units} is not an energy (Wh)")
    return value * _scale(unit) / 1e3


def _currency(unit: ItemUnit, currency: str) -> None:
    if unit.units != currency:
        raise UnitRefused("itemUnits", f"prices in {unit.units} are not converted; this site is billed in {currency}")


def price_per_kwh(value: float, unit: ItemUnit | None, currency: str = "EUR") -> float:
    """An energy price in currency/kWh; siScaleCode scales the currency (m: EUR/MWh given as mEUR/kWh)."""
    if unit is None:
        return value
    if unit.kind != "currencyPerKWh":
        raise UnitRefused("itemBase", f"{unit.kind} is not an energy price (currencyPerKWh)")
    _currency(unit, currency)
    return value * _scale(unit)


def price_per_kw(value: float, unit: ItemUnit | None, currency: str = "EUR") -> float:
    """A demand charge in currency/kW (any of openleadr's spellings of currencyPerKW)."""
    if unit is None:
        return value
    if unit.kind != "currencyPerKW" and unit.description not in _PER_KW_DESCRIPTIONS:
        raise UnitRefused("itemBase", f"{unit.kind} is not a demand charge (currencyPerKW)")
    _currency(unit, currency)
    return value * _scale(unit)

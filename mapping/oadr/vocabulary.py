"""2.0b signal names, signal types and the units each signal carries by default."""

from mapping.oadr.model import ItemUnit, PowerAttributes

SIGNAL_NAMES = (
    "SIMPLE",
    "simple",
    "ELECTRICITY_PRICE",
    "ENERGY_PRICE",
    "DEMAND_CHARGE",
    "BID_PRICE",
    "BID_LOAD",
    "BID_ENERGY",
    "CHARGE_STATE",
    "LOAD_DISPATCH",
    "LOAD_CONTROL",
)
SIGNAL_TYPES = (
    "delta",
    "level",
    "multiplier",
    "price",
    "priceMultiplier",
    "priceRelative",
    "setpoint",
    "x-loadControlCapacity",
    "x-loadControlLevelOffset",
    "x-loadControlPercentOffset",
    "x-loadControlSetpoint",
)


def check_signal(name: str, signal_type: str) -> str | None:
    """None when the pair is a valid 2.0b signal (extensions start with `x-`), else the reason."""
    if name not in SIGNAL_NAMES and not name.startswith("x-"):
        return f"signal name {name!r} is not a 2.0b signal name ({', '.join(SIGNAL_NAMES)} or x-…)"
    if signal_type not in SIGNAL_TYPES:
        return f"signal type {signal_type!r} is not a 2.0b signal type ({', '.join(SIGNAL_TYPES)})"
    return None


def power_kw() -> ItemUnit:
    """Real power in kW."""
    return ItemUnit("powerReal", "RealPower", "W", "k", PowerAttributes())


def default_unit(name: str, signal_type: str, currency: str = "EUR") -> ItemUnit | None:
    """The unit a signal carries when its sender gave none (None for unit-less levels)."""
    if signal_type in ("level", "multiplier", "priceMultiplier", "x-loadControlCapacity", "x-loadControlPercentOffset"):
        return None
    if name in ("ELECTRICITY_PRICE", "ENERGY_PRICE", "BID_PRICE") and signal_type in ("price", "priceRelative"):
        return ItemUnit("currencyPerKWh", "currencyPerKWh", currency, "none")
    if name == "DEMAND_CHARGE":
        return ItemUnit("currencyPerKW", "currencyPerKW", currency, "none")
    if name in ("CHARGE_STATE", "BID_ENERGY"):
        return ItemUnit("energyReal", "RealEnergy", "Wh", "k")
    if name in ("LOAD_DISPATCH", "BID_LOAD", "x-IMPORT_CAPACITY_LIMIT", "x-EXPORT_CAPACITY_LIMIT"):
        return power_kw()
    return None

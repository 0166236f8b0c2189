"""3.x event payload types → 2.0b signals (name, type, unit, value scale).

| 3.x payloadType        | 2.0b signal (name / type / unit)                                                      |
|------------------------|---------------------------------------------------------------------------------------|
| IMPORT_CAPACITY_LIMIT  | per program: x-IMPORT_CAPACITY_LIMIT / setpoint / kW (default) or LOAD_DISPATCH / setpoint / kW |
| EXPORT_CAPACITY_LIMIT  | x-EXPORT_CAPACITY_LIMIT / setpoint / kW (LOAD_DISPATCH cannot say "export")            |
| PRICE                  | ELECTRICITY_PRICE / price / currencyPerKWh (signalID `price`)                         |
| EXPORT_PRICE           | ELECTRICITY_PRICE / price / currencyPerKWh (signalID `export-price`)                  |
| SIMPLE                 | SIMPLE / level (0–3)                                                                  |
| GHG                    | x-GHG / level / customUnit gCO2e/kWh                                                  |
| DISPATCH_SETPOINT      | LOAD_DISPATCH / setpoint / kW                                                         |
| CHARGE_STATE_SETPOINT  | CHARGE_STATE / setpoint / energyReal kWh                                              |

Units: power in KW (default), W or MW; energy in KWH (default) or WH; prices per KWH (default) or
per MWH; currencies are ISO 4217 codes. Anything else is refused with the field and the reason.
"""

from dataclasses import dataclass
from typing import Any

from mapping.oadr import model as m
from mapping.oadr.vocabulary import power_kw
from mapping.refusal import Refused

#: how a program carries IMPORT_CAPACITY_LIMIT to 2.0b
CAPACITY_SIGNALS = ("x-IMPORT_CAPACITY_LIMIT", "LOAD_DISPATCH")

#: ISO 4217 codes (active, common ones plus every euro-zone / Caribbean neighbour's)
CURRENCIES = frozenset(
    "EUR USD GBP CHF JPY CAD AUD NZD SEK NOK DKK PLN CZK HUF RON BGN ISK TRY CNY HKD SGD KRW INR BRL MXN ZAR "
    "XCD XAF XOF XPF HTG DOP JMD TTD BBD BSD KYD AWG ANG SRD GYD BZD CUP".split()
)

_POWER = {"KW": 1.0, "W": 0.001, "MW": 1000.0}
_ENERGY = {"KWH": 1.0, "WH": 0.001}
_PER_ENERGY = {"KWH": 1.0, "MWH": 0.001}


@dataclass(frozen=True)
class SignalKind:
    """What one 3.x payload type becomes in 2.0b; `factor` converts the 3.x value to the 2.0b unit."""

    name: str
    type: str
    signal_id: str
    unit: m.ItemUnit | None
    factor: float = 1.0
    levels: tuple[int, ...] | None = None


def _units(descriptor: dict[str, Any], table: dict[str, float], default: str, field: str) -> float:
    units = descriptor.get("units") or default
    if not isinstance(units, str) or units.upper() not in table:
        raise Refused(f"{field}.units", f"{units!r} cannot be carried; use one of {', '.join(table)}")
    return table[units.upper()]


def _currency(descriptor: dict[str, Any], default: str, field: str) -> str:
    currency = descriptor.get("currency") or default
    if not isinstance(currency, str) or currency not in CURRENCIES:
        raise Refused(f"{field}.currency", f"{currency!r} is not an ISO 4217 currency code we know (e.g. EUR)")
    return currency


def _signal_kind(
    payload_type: str, descriptor: dict[str, Any] | None, capacity_signal: str, currency: str, field: str
) -> SignalKind:
    """The 2.0b signal for a 3.x payload type; `descriptor` is its eventPayloadDescriptor (or None).

    `field` names the descriptor (or payload) in refusals.
    """
    d = descriptor or {}
    if payload_type == "IMPORT_CAPACITY_LIMIT":
        name = capacity_signal if capacity_signal in CAPACITY_SIGNALS else CAPACITY_SIGNALS[0]
        return SignalKind(name, "setpoint", "import-capacity", power_kw(), _units(d, _POWER, "KW", field))
    if payload_type == "EXPORT_CAPACITY_LIMIT":
        return SignalKind("x-EXPORT_CAPACITY_LIMIT", "setpoint", "export-capacity", power_kw(), _units(d, _POWER, "KW", field))
    if payload_type in ("PRICE", "EXPORT_PRICE"):
        unit = m.ItemUnit("currencyPerKWh", "currencyPerKWh", _currency(d, currency, field), "none")
        signal_id = "price" if payload_type == "PRICE" else "export-price"
        return SignalKind("ELECTRICITY_PRICE", "price", signal_id, unit, _units(d, _PER_ENERGY, "KWH", field))
    if payload_type == "SIMPLE":
        return SignalKind("SIMPLE", "level", "simple", None, levels=(0, 1, 2, 3))
    if payload_type == "GHG":
        if d.get("units") not in (None, "GHG", "G_PER_KWH"):
            raise Refused(f"{field}.units", f"{d.get('units')!r} cannot be carried; GHG is in g/kWh (units GHG)")
        return SignalKind("x-GHG", "level", "ghg", m.ItemUnit("customUnit", "GHG intensity", "gCO2e/kWh", "none"))
    if payload_type == "DISPATCH_SETPOINT":
        return SignalKind("LOAD_DISPATCH", "setpoint", "dispatch", power_kw(), _units(d, _POWER, "KW", field))
    if payload_type == "CHARGE_STATE_SETPOINT":
        unit = m.ItemUnit("energyReal", "RealEnergy", "Wh", "k")
        return SignalKind("CHARGE_STATE", "setpoint", "charge-state", unit, _units(d, _ENERGY, "KWH", field))
    raise Refused(
        field,
        f"payload type {payload_type!r} cannot be carried to OpenADR 2.0b (accepted: IMPORT_CAPACITY_LIMIT, "
        "EXPORT_CAPACITY_LIMIT, PRICE, EXPORT_PRICE, SIMPLE, GHG, DISPATCH_SETPOINT, CHARGE_STATE_SETPOINT)",
    )

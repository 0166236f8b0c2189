"""OpenADR 2.0b event signals → FlexMeasures constraints (flex-context, flex-model), pure.

Signals → constraints (`constraints`, units converted by `units`), overlapping constraints → one
value per 15-minute slot (`combine`, on `mapping.grid`'s slots), constraints → FlexMeasures request
parts (`flexmeasures`), and what a schedule cannot honour (`unmet`).
"""

from mapping.flex.combine import combine
from mapping.flex.constraints import (
    EXPORT_LIMIT,
    IMPORT_LIMIT,
    INSTANT_KINDS,
    LOWER_IS_STRICTER,
    PEAK_PRICE,
    PRICE,
    SOC_MINIMUM,
    SOC_TARGET,
    Constraint,
    SignalRefused,
    SiteFacts,
    event_constraints,
)
from mapping.flex.flexmeasures import DSO_SENSORS, quantity, sensor_values, soc_points, stored_flex_context, trigger_segments
from mapping.flex.units import SCALES, UnitRefused, energy_kwh, power_kw, price_per_kw, price_per_kwh
from mapping.flex.unmet import Window, before, breached_windows, covers, union

__all__ = [
    "DSO_SENSORS",
    "EXPORT_LIMIT",
    "IMPORT_LIMIT",
    "INSTANT_KINDS",
    "LOWER_IS_STRICTER",
    "PEAK_PRICE",
    "PRICE",
    "SCALES",
    "SOC_MINIMUM",
    "SOC_TARGET",
    "Constraint",
    "SignalRefused",
    "SiteFacts",
    "UnitRefused",
    "Window",
    "before",
    "breached_windows",
    "covers",
    "combine",
    "energy_kwh",
    "event_constraints",
    "power_kw",
    "price_per_kw",
    "price_per_kwh",
    "quantity",
    "sensor_values",
    "soc_points",
    "stored_flex_context",
    "trigger_segments",
    "union",
]

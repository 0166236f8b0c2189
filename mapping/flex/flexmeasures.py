"""FlexMeasures request bodies built from constraints — pure dicts, no client, no I/O.

Field names are those of FlexMeasures 1.0's flex-context and storage flex-model.
"""

from datetime import datetime, timedelta
from typing import Any

from mapping.flex.constraints import EXPORT_LIMIT, IMPORT_LIMIT, PEAK_PRICE, PRICE
from mapping.grid import QUARTER, Segment
from mapping.oadr.timefmt import format_datetime, format_duration

#: our constraint kind → (flex-context field, unit for FlexMeasures)
_FLEX_CONTEXT_FIELDS = {
    IMPORT_LIMIT: ("site-consumption-capacity", "kW"),
    EXPORT_LIMIT: ("site-production-capacity", "kW"),
    PRICE: ("consumption-price", "EUR/kWh"),
    PEAK_PRICE: ("site-peak-consumption-price", "EUR/kW"),
}
#: the DSO sensors each site gets, per constraint kind: (sensor name, unit)
DSO_SENSORS = {
    IMPORT_LIMIT: ("dso-import-limit", "kW"),
    EXPORT_LIMIT: ("dso-export-limit", "kW"),
    PRICE: ("dso-price", "EUR/kWh"),
    PEAK_PRICE: ("dso-peak-price", "EUR/kW"),
}


def quantity(value: float, unit: str) -> str:
    """FlexMeasures quantity string, e.g. '6.5 kW'."""
    return f"{value:g} {unit}"


def stored_flex_context(sensor_ids: dict[str, int], defaults: dict[str, float]) -> dict[str, Any]:
    """The site's stored flex-context: each DSO sensor referenced with the value to use when it has no data."""
    context: dict[str, Any] = {}
    for kind, sensor_id in sensor_ids.items():
        field, unit = _FLEX_CONTEXT_FIELDS[kind]
        reference: dict[str, Any] = {"sensor": sensor_id}
        if kind in defaults:
            reference["default"] = quantity(defaults[kind], unit)
        context[field] = reference
    return context


def trigger_segments(kind: str, segments: list[Segment]) -> list[dict[str, str]]:
    """Time-series segments of a trigger's flex-context field."""
    _, unit = _FLEX_CONTEXT_FIELDS[kind]
    return [
        {"start": format_datetime(s.start), "duration": format_duration(s.duration), "value": quantity(s.value, unit)}
        for s in segments
    ]


def soc_points(segments: list[Segment]) -> list[dict[str, str]]:
    """soc-targets / soc-minima entries of a storage flex-model."""
    return [{"datetime": format_datetime(s.start), "value": quantity(s.value, "kWh")} for s in segments]


def sensor_values(
    segments: list[Segment], window_start: datetime, window_end: datetime, default: float, resolution: timedelta = QUARTER
) -> list[float]:
    """One value per slot of [window_start, window_end): the segment's where there is one, else `default`
    (so a cancellation or a shortened event restores the default for the rest of the window)."""
    values = []
    slot = window_start
    while slot < window_end:
        covering = [s.value for s in segments if s.start <= slot < s.end]
        values.append(covering[0] if covering else default)
        slot += resolution
    return values

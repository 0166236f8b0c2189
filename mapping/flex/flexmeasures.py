"""FlexMeasures request bodies built from constraints — pure dicts, no client, no I/O.

Field names are those of FlexMeasures 1.0's flex-context and storage flex-model. Absolute grid limits go
to the site capacities (`site-consumption-capacity`, `site-production-capacity`), which FlexMeasures holds
at its 10 000 EUR/kW breach price: hard wherever they can be met. What an event asks against the site's
load (a ceiling, a floor, the preparation window's limit) goes to `commitments` on the site's net power,
priced per kW of deviation per slot (`REQUEST_PRICE_PER_KW`): dearer than any energy price, cheaper than
a state-of-charge minimum (1 000 EUR/kWh), so an EV still leaves with what its owner needs.
"""

from datetime import datetime, timedelta
from typing import Any

from mapping.flex.constraints import (
    EXPORT_LIMIT,
    IMPORT_CEILING,
    IMPORT_FLOOR,
    IMPORT_LIMIT,
    PEAK_PRICE,
    PREPARATION_CEILING,
    PRICE,
)
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


#: what one kW of deviation from an event's request costs per 15-minute slot (EUR/kW)
REQUEST_PRICE_PER_KW = 100.0


def _slot_series(segments: list[Segment], start: datetime, end: datetime) -> list[tuple[datetime, float | None]]:
    series, slot = [], start
    while slot < end:
        covering = [s.value for s in segments if s.start <= slot < s.end]
        series.append((slot, covering[0] if covering else None))
        slot += QUARTER
    return series


def _commitment(name: str, series: list[tuple[datetime, float | None]], price_field: str, price: float) -> dict[str, Any]:
    """A commitment on the site's net power: `series` where given (priced), elsewhere 0 kW at no price; runs of
    equal slots are one segment (FlexMeasures validates every segment: a day of quarter hours is slow to read)."""
    runs: list[tuple[datetime, datetime, float | None]] = []
    for slot, kw in series:
        if runs and runs[-1][1] == slot and runs[-1][2] == kw:
            runs[-1] = (runs[-1][0], slot + QUARTER, kw)
        else:
            runs.append((slot, slot + QUARTER, kw))

    def segment(start: datetime, end: datetime, value: str) -> dict[str, str]:
        return {"start": format_datetime(start), "duration": format_duration(end - start), "value": value}

    return {
        "name": name,
        "baseline": [segment(start, end, quantity(0.0 if kw is None else kw, "kW")) for start, end, kw in runs],
        price_field: [segment(start, end, quantity(0.0 if kw is None else price, "EUR/kW")) for start, end, kw in runs],
    }


def request_commitments(combined: dict[str, list[Segment]], start: datetime, end: datetime) -> list[dict[str, Any]]:
    """The trigger's `commitments` for what events ask of the site over [start, end): a ceiling (the lower of the
    events' ceilings and the preparation windows' limits) priced upwards, a floor priced downwards (FlexMeasures
    charges a downwards price times a negative deviation, hence the minus sign); none when nothing is asked."""
    ceilings = _slot_series(combined.get(IMPORT_CEILING, []), start, end)
    prepared = _slot_series(combined.get(PREPARATION_CEILING, []), start, end)
    ceiling = [
        (slot, min((v for v in (a, b) if v is not None), default=None))
        for (slot, a), (_, b) in zip(ceilings, prepared, strict=True)
    ]
    floor = _slot_series(combined.get(IMPORT_FLOOR, []), start, end)
    commitments = []
    if any(kw is not None for _, kw in ceiling):
        commitments.append(_commitment("event-ceiling", ceiling, "up-price", REQUEST_PRICE_PER_KW))
    if any(kw is not None for _, kw in floor):
        commitments.append(_commitment("event-floor", floor, "down-price", -REQUEST_PRICE_PER_KW))
    return commitments

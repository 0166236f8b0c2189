"""Which events a site's schedule cannot honour, and over which windows. Pure.

FlexMeasures does not flag a schedule that keeps the site outside what an event asks (the VEN reads the
scheduled site power back: FlexMeasures writes it to the aggregate-consumption sensor). A slot is charged
to every event whose import limit or ceiling over that slot is below the scheduled site power, or whose
floor is above it; an event's unmet slots are merged into windows, cut to the event's own requests — what
an oadrCreateOpt optOut with a vavailability schedule says. The preparation window before an event is not
the event's: a schedule above it is not an event left unmet.
"""

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from mapping.flex.constraints import IMPORT_CEILING, IMPORT_FLOOR, IMPORT_LIMIT, Constraint
from mapping.grid import QUARTER

#: (window start, duration)
Window = tuple[datetime, timedelta]
#: how far (kW) a scheduled slot may sit past a request before it counts as unmet (solver rounding)
TOLERANCE_KW = 0.01
_REQUESTS = (IMPORT_LIMIT, IMPORT_CEILING, IMPORT_FLOOR)


def _misses(c: Constraint, site_kw: float) -> bool:
    if c.kind == IMPORT_FLOOR:
        return site_kw < c.value - TOLERANCE_KW
    return site_kw > c.value + TOLERANCE_KW


def unmet_slots(site_kw: Iterable[tuple[datetime, float]], constraints: Sequence[Constraint]) -> list[tuple[datetime, float]]:
    """The (slot start, scheduled site kW) of every 15-minute slot where some event's request is missed."""
    requests = [c for c in constraints if c.kind in _REQUESTS]
    return [
        (start, kw)
        for start, kw in site_kw
        if any(c.start < start + QUARTER and c.end > start and _misses(c, kw) for c in requests)
    ]


def breached_windows(
    site_kw: Iterable[tuple[datetime, float]], constraints: Sequence[Constraint]
) -> dict[str, tuple[Window, ...]]:
    """Per event id, the windows in which the schedule misses its requests; `site_kw` is the scheduled site
    power (kW) per 15-minute slot start."""
    requests = [c for c in constraints if c.kind in _REQUESTS]
    slots: dict[str, set[datetime]] = {}
    for start, kw in site_kw:
        for c in requests:
            if c.start < start + QUARTER and c.end > start and _misses(c, kw):
                slots.setdefault(c.event_id, set()).add(start)
    spans = {
        event_id: (
            min(c.start for c in requests if c.event_id == event_id),
            max(c.end for c in requests if c.event_id == event_id),
        )
        for event_id in slots
    }
    return {event_id: _cut(union((s, QUARTER) for s in starts), *spans[event_id]) for event_id, starts in slots.items()}


def _cut(windows: tuple[Window, ...], first: datetime, last: datetime) -> tuple[Window, ...]:
    """The windows cut to the event's own [first, last) (its requests need not fall on slots)."""
    return tuple((max(start, first), min(start + length, last) - max(start, first)) for start, length in windows)


def union(*groups: Iterable[Window]) -> tuple[Window, ...]:
    """The windows of all groups, overlapping or touching ones merged, in time order."""
    spans = sorted((start, start + length) for group in groups for start, length in group)
    merged: list[tuple[datetime, datetime]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return tuple((start, end - start) for start, end in merged)


def before(windows: Iterable[Window], now: datetime) -> tuple[Window, ...]:
    """The part of each window that lies before `now` (what has happened and cannot be withdrawn)."""
    return tuple((start, min(length, now - start)) for start, length in windows if start < now)


def covers(windows: Iterable[Window], start: datetime, end: datetime) -> bool:
    """Whether the windows together cover all of [start, end) (a non-empty span)."""
    return start < end and any(w_start <= start and w_start + length >= end for w_start, length in union(windows))

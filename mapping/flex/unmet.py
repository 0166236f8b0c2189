"""Which events a site's schedule cannot honour, and over which windows. Pure.

FlexMeasures does not flag a schedule that keeps the site above an import limit (the VEN reads the
scheduled site power back and finds the slots over the limit: "breaches"). A breached slot is charged to
every event whose import limit over that slot is below the scheduled power, and an event's breached
slots are merged into windows, cut to the event's own limits — what an oadrCreateOpt optOut with a
vavailability schedule says.
"""

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from mapping.flex.constraints import IMPORT_LIMIT, Constraint
from mapping.grid import QUARTER

#: (window start, duration)
Window = tuple[datetime, timedelta]


def breached_windows(
    breaches: Iterable[tuple[datetime, float, float]], constraints: Sequence[Constraint]
) -> dict[str, tuple[Window, ...]]:
    """Per event id, the windows in which its import limit is breached; `breaches` are (slot start,
    scheduled site kW, combined limit kW) per 15-minute slot."""
    slots: dict[str, set[datetime]] = {}
    for start, site_kw, _limit in breaches:
        end = start + QUARTER
        for c in constraints:
            if c.kind == IMPORT_LIMIT and c.start < end and c.end > start and site_kw > c.value + 1e-6:
                slots.setdefault(c.event_id, set()).add(start)
    spans = {
        event_id: (
            min(c.start for c in constraints if c.event_id == event_id and c.kind == IMPORT_LIMIT),
            max(c.end for c in constraints if c.event_id == event_id and c.kind == IMPORT_LIMIT),
        )
        for event_id in slots
    }
    return {event_id: _cut(union((s, QUARTER) for s in starts), *spans[event_id]) for event_id, starts in slots.items()}


def _cut(windows: tuple[Window, ...], first: datetime, last: datetime) -> tuple[Window, ...]:
    """The windows cut to the event's own [first, last) (its limits need not fall on slots)."""
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

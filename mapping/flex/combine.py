"""Overlapping events → one value per 15-minute slot per constraint kind. Pure.

Rules: in each slot, the highest-priority constraint covering it wins (2.0b priority 1 highest);
among equal priorities the stricter one wins (the lower limit; the higher price; the higher
state-of-charge target). A constraint covers every slot it overlaps, even partly, so a limit is
never loosened by the 15-minute grid. Slots are aligned on the UTC quarter hour, which is also
America/Martinique's (UTC−4, no daylight saving).
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from mapping.flex.constraints import INSTANT_KINDS, LOWER_IS_STRICTER, Constraint

RESOLUTION = timedelta(minutes=15)
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Segment:
    """A constant value over [start, end)."""

    start: datetime
    end: datetime
    value: float

    @property
    def duration(self) -> timedelta:
        """end − start."""
        return self.end - self.start


def floor_slot(moment: datetime, resolution: timedelta = RESOLUTION) -> datetime:
    """The start of the slot holding `moment`."""
    return moment - (moment - _EPOCH) % resolution


def ceil_slot(moment: datetime, resolution: timedelta = RESOLUTION) -> datetime:
    """The first slot boundary at or after `moment`."""
    floored = floor_slot(moment, resolution)
    return floored if floored == moment else floored + resolution


def _better(kind: str, a: Constraint, b: Constraint) -> Constraint:
    if a.priority != b.priority:
        return a if a.priority < b.priority else b
    if kind in LOWER_IS_STRICTER:
        return a if a.value <= b.value else b
    return a if a.value >= b.value else b


def combine(constraints: Iterable[Constraint], resolution: timedelta = RESOLUTION) -> dict[str, list[Segment]]:
    """Per kind, the winning value in every slot any constraint touches, merged into segments."""
    by_kind: dict[str, list[Constraint]] = {}
    for c in constraints:
        by_kind.setdefault(c.kind, []).append(c)
    result: dict[str, list[Segment]] = {}
    for kind, items in by_kind.items():
        if kind in INSTANT_KINDS:
            result[kind] = _instants(kind, items)
            continue
        slots: dict[datetime, Constraint] = {}
        for c in items:
            slot = floor_slot(c.start, resolution)
            while slot < c.end:
                slots[slot] = _better(kind, slots[slot], c) if slot in slots else c
                slot += resolution
        result[kind] = _merge(sorted(slots.items()), resolution)
    return result


def _instants(kind: str, items: list[Constraint]) -> list[Segment]:
    best: dict[datetime, Constraint] = {}
    for c in items:
        best[c.start] = _better(kind, best[c.start], c) if c.start in best else c
    return [Segment(at, at, c.value) for at, c in sorted(best.items())]


def _merge(slots: list[tuple[datetime, Constraint]], resolution: timedelta) -> list[Segment]:
    segments: list[Segment] = []
    for start, c in slots:
        last = segments[-1] if segments else None
        if last is not None and last.end == start and last.value == c.value:
            segments[-1] = Segment(last.start, start + resolution, c.value)
        else:
            segments.append(Segment(start, start + resolution, c.value))
    return segments

"""What the curtailment modules share: data-quality flags, the refusal, meter samples and interval
means, and the checks every input goes through. Pure.

The types are the package's API (`mapping.curtailment` exports them); the checks are its own.
"""

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Protocol, TypeVar
from zoneinfo import ZoneInfo

from mapping.grid import LOCAL_ZONE, QUARTER, Segment, floor_slot, is_on_grid, slots_between
from mapping.refusal import Refused

#: the sites' local time: day boundaries and weekdays of the x-of-y baseline are Martinique's
LOCAL_TZ = ZoneInfo(LOCAL_ZONE)
#: hours in one interval, to turn kW into kWh
INTERVAL_HOURS = QUARTER / timedelta(hours=1)


class Flag(StrEnum):
    """Data-quality flags carried by every interval value; a value's flags are the union of its inputs'."""

    MISSING = "missing"  # no data: the value is None
    PARTIAL = "partial"  # data cover less of the interval than the threshold
    ESTIMATED = "estimated"  # at least one sample was flagged estimated by the meter
    INSUFFICIENT_HISTORY = "insufficient_history"  # the baseline used fewer values than its method asks for
    NOTHING_REQUESTED = "nothing_requested"  # requested reduction 0: no ratio
    BEFORE_NOTICE = "before_notice"  # the event was created after this interval began: the site was told late (VTN only)
    CLAIMED = "claimed"  # the VTN held no meter data for this value: it is the VEN's own figure, shown, never final
    UNADJUSTED = "unadjusted"  # the baseline's day-of adjustment had no data (or no load) to work from: left out


class CurtailmentRefused(Refused):
    """Inputs or settings this package cannot compute with: the field (input or setting) and why."""


@dataclass(frozen=True)
class Sample:
    """One meter reading: net site power at an instant (kW, consumption positive)."""

    at: datetime
    kw: float
    estimated: bool = False


@dataclass(frozen=True)
class Measured:
    """The mean net site power over one 15-minute interval [start, start + 15 min), with its quality."""

    start: datetime
    kw: float | None
    samples: int
    coverage: float  # share of the interval the samples stand for, 0..1
    flags: frozenset[Flag]

    @property
    def end(self) -> datetime:
        """start + 15 minutes."""
        return self.start + QUARTER


@dataclass(frozen=True)
class Baseline:
    """The baseline over one 15-minute event interval [start, start + 15 min)."""

    start: datetime
    kw: float | None
    flags: frozenset[Flag]
    #: starts of the history intervals the value was computed from (empty for a counterfactual)
    used: tuple[datetime, ...] = ()
    #: the value before the day-of adjustment (None: the method adjusts nothing)
    unadjusted_kw: float | None = None

    @property
    def end(self) -> datetime:
        """start + 15 minutes."""
        return self.start + QUARTER


def reference_end(event_start: datetime, notified: datetime | None) -> datetime:
    """Where every look before the event stops: the start of the interval holding the notice, or the event's first
    interval when the notice came earlier is unknown.

    What the site did after it was told is its response (pre-charging, pre-cooling), never its baseline; the
    interval the notice falls in is left out whole.
    """
    start = floor_slot(require_aware(event_start, "event start"))
    if notified is None:
        return start
    return min(start, floor_slot(require_aware(notified, "notified")))


def require_aware(moment: datetime, what: str) -> datetime:
    """`moment` in UTC; refuses a naive datetime (its offset would be a guess)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise CurtailmentRefused(what, f"{moment.isoformat()} has no time zone")
    return moment.astimezone(UTC)


def require_finite(value: float, what: str) -> float:
    """`value` as a float; refuses NaN and infinities (they would poison every sum they enter)."""
    value = float(value)
    if not math.isfinite(value):
        raise CurtailmentRefused(what, f"{value!r} is not a number of kW")
    return value


def checked_segment(segment: Segment, what: str) -> tuple[datetime, datetime, float]:
    """(start, end, value) of a constant-power segment, times in UTC; refuses naive times, an empty span, a non-number."""
    start, end = require_aware(segment.start, f"{what} start"), require_aware(segment.end, f"{what} end")
    if end <= start:
        raise CurtailmentRefused(what, f"ends {end.isoformat()}, not after its start {start.isoformat()}")
    return start, end, require_finite(segment.value, f"{what} value")


def event_slots(start: datetime, end: datetime) -> tuple[datetime, ...]:
    """The starts (UTC) of the 15-minute intervals [start, end) touches.

    An event that starts or ends off the grid still owns its whole first and last interval, as a
    constraint does in `mapping.flex.combine` (`mapping.grid.slots_between`).
    """
    start, end = require_aware(start, "start"), require_aware(end, "end")
    if end <= start:
        raise CurtailmentRefused("end", f"{end.isoformat()} is not after start {start.isoformat()}")
    return slots_between(start, end)


def bounded_mean(values: Sequence[float], weights: Sequence[float]) -> float:
    """The weighted mean, kept within [min, max] of the values (rounding alone could step outside)."""
    total = math.fsum(weights)
    if total <= 0:
        raise CurtailmentRefused("weights", "values with no weight (an interval with a value but no coverage?) have no mean")
    mean = math.fsum(v * w for v, w in zip(values, weights, strict=True)) / total
    return min(max(mean, min(values)), max(values))


class _Interval(Protocol):
    @property
    def start(self) -> datetime: ...


_I = TypeVar("_I", bound=_Interval)


def index_by_start(intervals: Iterable[_I], what: str) -> dict[datetime, _I]:
    """Intervals by start (UTC); refuses starts off the 15-minute grid and duplicates (which one would be right?)."""
    indexed: dict[datetime, _I] = {}
    for interval in intervals:
        start = require_aware(interval.start, f"{what} interval start")
        if not is_on_grid(start):
            raise CurtailmentRefused(f"{what} intervals", f"{start.isoformat()} is not on the 15-minute grid")
        if start in indexed:
            raise CurtailmentRefused(f"{what} intervals", f"two intervals start at {start.isoformat()}")
        indexed[start] = interval
    return indexed


#: flags a value passes on to what is computed from it (`missing` is decided anew by each method)
INHERITED = frozenset({Flag.PARTIAL, Flag.ESTIMATED})


def valued(history: dict[datetime, Measured], starts: Iterable[datetime]) -> list[tuple[float, Measured]]:
    """(value, interval) of the intervals at `starts` that have a value."""
    found = [m for m in (history.get(s) for s in starts) if m is not None]
    return [(require_finite(m.kw, f"history at {m.start.isoformat()}"), m) for m in found if m.kw is not None]


def inherited_flags(used: Iterable[tuple[float, Measured]]) -> set[Flag]:
    """The flags the values a result was computed from pass on to it."""
    return {flag for _, m in used for flag in m.flags if flag in INHERITED}


def window_before(end: datetime, minutes: int) -> tuple[datetime, ...]:
    """The starts of the 15-minute intervals of the `minutes` just before `end` (a slot boundary), oldest first."""
    return tuple(end - QUARTER * i for i in range(minutes // 15, 0, -1))

"""Achieved curtailment: meter samples → 15-minute means, baselines, baseline − measured. Pure.

This package module holds what the others share: the data-quality flags, the refusal, meter
samples and their resampling onto the 15-minute grid (`mapping.flex.combine`'s grid: slots aligned
on the UTC quarter hour, which is also America/Martinique's, UTC−4 without daylight saving).
`baseline` computes what the site would have consumed without the event; `achieved` compares.

Sign convention: net site power in kW, consumption (import) positive, export negative. Nothing is
ever invented: an interval without data has the value None and the flag `missing`.
"""

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Protocol, TypeVar
from zoneinfo import ZoneInfo

from mapping.flex.combine import RESOLUTION, Segment, ceil_slot, floor_slot

#: the sites' local time: day boundaries and weekdays of the x-of-y baseline are Martinique's
LOCAL_TZ = ZoneInfo("America/Martinique")
#: hours in one interval, to turn kW into kWh
INTERVAL_HOURS = RESOLUTION / timedelta(hours=1)


class Flag(StrEnum):
    """Data-quality flags carried by every interval value; a value's flags are the union of its inputs'."""

    MISSING = "missing"  # no data: the value is None
    PARTIAL = "partial"  # data cover less of the interval than the threshold
    ESTIMATED = "estimated"  # at least one sample was flagged estimated by the meter
    INSUFFICIENT_HISTORY = "insufficient_history"  # the baseline used fewer values than its method asks for
    NOTHING_REQUESTED = "nothing_requested"  # requested reduction 0: no ratio
    BEFORE_NOTICE = "before_notice"  # the event was created after this interval began: the site was told late (VTN only)


class CurtailmentRefused(ValueError):
    """Inputs or settings this package cannot compute with; the message says which and why."""


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
        return self.start + RESOLUTION


def require_aware(moment: datetime, what: str) -> datetime:
    """`moment` in UTC; refuses a naive datetime (its offset would be a guess)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise CurtailmentRefused(f"{what} {moment.isoformat()} has no time zone")
    return moment.astimezone(UTC)


def require_finite(value: float, what: str) -> float:
    """`value` as a float; refuses NaN and infinities (they would poison every sum they enter)."""
    value = float(value)
    if not math.isfinite(value):
        raise CurtailmentRefused(f"{what} is {value!r}, not a number of kW")
    return value


def checked_segment(segment: Segment, what: str) -> tuple[datetime, datetime, float]:
    """(start, end, value) of a constant-power segment, times in UTC; refuses naive times, an empty span, a non-number."""
    start, end = require_aware(segment.start, f"{what} start"), require_aware(segment.end, f"{what} end")
    if end <= start:
        raise CurtailmentRefused(f"{what} ends {end.isoformat()}, not after its start {start.isoformat()}")
    return start, end, require_finite(segment.value, f"{what} value")


def event_slots(start: datetime, end: datetime) -> tuple[datetime, ...]:
    """The starts (UTC) of the 15-minute intervals [start, end) touches.

    An event that starts or ends off the grid still owns its whole first and last interval, as a
    constraint does in `mapping.flex.combine`.
    """
    start, end = require_aware(start, "start"), require_aware(end, "end")
    if end <= start:
        raise CurtailmentRefused(f"end {end.isoformat()} is not after start {start.isoformat()}")
    first, count = floor_slot(start), (ceil_slot(end) - floor_slot(start)) // RESOLUTION
    return tuple(first + i * RESOLUTION for i in range(count))


def bounded_mean(values: Sequence[float], weights: Sequence[float]) -> float:
    """The weighted mean, kept within [min, max] of the values (rounding alone could step outside)."""
    total = math.fsum(weights)
    if total <= 0:
        raise CurtailmentRefused("values with no weight (an interval with a value but no coverage?) have no mean")
    mean = math.fsum(v * w for v, w in zip(values, weights, strict=True)) / total
    return min(max(mean, min(values)), max(values))


def resample(
    samples: Iterable[Sample], start: datetime, end: datetime, *, max_hold: timedelta, min_coverage: float = 0.9
) -> tuple[Measured, ...]:
    """15-minute mean net power over [start, end) from point samples, one `Measured` per interval.

    A sample stands for the power from its timestamp until the next sample, for at most `max_hold`
    (the meter's nominal period: beyond it the meter was silent) and never past the end of its own
    interval, so a sample never lends its value to a neighbouring interval. The mean is weighted by
    the time each sample stands for; coverage is that time over 15 minutes. Samples sharing a
    timestamp share its time equally. An interval without samples is `missing` with value None;
    one whose coverage is below `min_coverage` is `partial`; `estimated` when any sample was.
    """
    if max_hold <= timedelta(0):
        raise CurtailmentRefused(f"max_hold {max_hold} must be positive")
    if not 0.0 <= min_coverage <= 1.0:
        raise CurtailmentRefused(f"min_coverage {min_coverage:g} is outside 0–1")
    slots = event_slots(start, end)
    checked = sorted(
        (
            (require_aware(s.at, f"sample {i} timestamp"), require_finite(s.kw, f"sample {i} power"), bool(s.estimated))
            for i, s in enumerate(samples)
        ),
        key=lambda sample: sample[0],
    )
    instants = sorted({at for at, _, _ in checked})
    nexts = dict(zip(instants, instants[1:], strict=False))
    holds = {at: min(at + max_hold, floor_slot(at) + RESOLUTION, nexts.get(at, at + max_hold)) - at for at in instants}
    sharing = {at: 0 for at in instants}
    for at, _, _ in checked:
        sharing[at] += 1
    in_slot: dict[datetime, list[tuple[datetime, float, bool]]] = {slot: [] for slot in slots}
    for sample in checked:
        bucket = in_slot.get(floor_slot(sample[0]))
        if bucket is not None:
            bucket.append(sample)
    return tuple(_measured(slot, in_slot[slot], holds, sharing, min_coverage) for slot in slots)


def _measured(
    slot: datetime,
    samples: list[tuple[datetime, float, bool]],
    holds: dict[datetime, timedelta],
    sharing: dict[datetime, int],
    min_coverage: float,
) -> Measured:
    if not samples:
        return Measured(slot, None, 0, 0.0, frozenset({Flag.MISSING}))
    covered = sum((holds[at] for at in {at for at, _, _ in samples}), timedelta(0))
    coverage = covered / RESOLUTION
    kw = bounded_mean([kw for _, kw, _ in samples], [holds[at].total_seconds() / sharing[at] for at, _, _ in samples])
    flags = set()
    if coverage < min_coverage:
        flags.add(Flag.PARTIAL)
    if any(estimated for _, _, estimated in samples):
        flags.add(Flag.ESTIMATED)
    return Measured(slot, kw, len(samples), coverage, frozenset(flags))


class _Interval(Protocol):
    @property
    def start(self) -> datetime: ...


_I = TypeVar("_I", bound=_Interval)


def index_by_start(intervals: Iterable[_I], what: str) -> dict[datetime, _I]:
    """Intervals by start (UTC); refuses starts off the 15-minute grid and duplicates (which one would be right?)."""
    indexed: dict[datetime, _I] = {}
    for interval in intervals:
        start = require_aware(interval.start, f"{what} interval start")
        if floor_slot(start) != start:
            raise CurtailmentRefused(f"{what} interval {start.isoformat()} is not on the 15-minute grid")
        if start in indexed:
            raise CurtailmentRefused(f"{what} has two intervals starting {start.isoformat()}")
        indexed[start] = interval
    return indexed

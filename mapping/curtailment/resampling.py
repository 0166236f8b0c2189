"""Meter samples → the mean net power of each 15-minute interval: the one 15-minute mean of Cariflex. Pure.

Every 15-minute mean of power readings is computed here: the VEN's measured curtailment and its
telemetry to FlexMeasures, the baselines' history, and the aggregator API's site measurements
(`mapping.flexready.measurements`), so the same readings give the same mean everywhere.

Why time-weighted: a meter sample is the power at one instant, and what an interval consumed is
the integral of power over it. The mean power of the interval is that integral over 15 minutes,
which point samples approximate by letting each stand for the time until the next one. A plain
average of the samples over-weights a burst of readings: 10 kW read at :00, :05 and :10, then
20 kW read at :14:00, :14:20 and :14:40 average to 15 kW, while the site drew 10 kW for 14 minutes
and 20 kW for one — 10.7 kW, which is what the time-weighted mean gives. With evenly spaced
readings the two agree.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from mapping.curtailment._common import (
    CurtailmentRefused,
    Flag,
    Measured,
    Sample,
    bounded_mean,
    checked_segment,
    event_slots,
    require_aware,
    require_finite,
)
from mapping.grid import QUARTER, Segment, floor_slot

#: how long a sample stands for when the caller does not know its meter's period (the VEN's default, `[curtailment] max_hold`)
DEFAULT_MAX_HOLD = timedelta(minutes=5)
#: the coverage below which an interval is flagged `partial` (the VEN's default, `[curtailment] min_coverage_percent`)
DEFAULT_MIN_COVERAGE = 0.9


def resample(
    samples: Iterable[Sample],
    start: datetime,
    end: datetime,
    *,
    max_hold: timedelta,
    min_coverage: float = DEFAULT_MIN_COVERAGE,
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
        raise CurtailmentRefused("max_hold", f"{max_hold} must be positive")
    if not 0.0 <= min_coverage <= 1.0:
        raise CurtailmentRefused("min_coverage", f"{min_coverage:g} is outside 0–1")
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
    holds = {at: min(at + max_hold, floor_slot(at) + QUARTER, nexts.get(at, at + max_hold)) - at for at in instants}
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
    coverage = covered / QUARTER
    kw = bounded_mean([kw for _, kw, _ in samples], [holds[at].total_seconds() / sharing[at] for at, _, _ in samples])
    flags = set()
    if coverage < min_coverage:
        flags.add(Flag.PARTIAL)
    if any(estimated for _, _, estimated in samples):
        flags.add(Flag.ESTIMATED)
    return Measured(slot, kw, len(samples), coverage, frozenset(flags))


@dataclass(frozen=True)
class MeterStep:
    """A meter's mean net power over one of its steps [start, end) (a 10- or 30-minute load-curve point, say)."""

    start: datetime
    end: datetime
    kw: float
    estimated: bool = False


def step_means(
    steps: Iterable[MeterStep],
    start: datetime,
    end: datetime,
    *,
    min_coverage: float = DEFAULT_MIN_COVERAGE,
    only: Callable[[datetime], bool] | None = None,
) -> tuple[Measured, ...]:
    """15-minute mean net power over [start, end) from mean-power steps of any length, one `Measured` per interval.

    A step's mean holds over its whole span, so each interval takes the time-weighted mean of the parts of
    steps inside it: a 30-minute step gives its value to both its quarter hours; 10-minute steps at
    :00 and :10 give [:00, :15) (10 × a + 5 × b) / 15. Steps must not overlap (two means for one moment).
    Coverage, `missing`, `partial` and `estimated` as in `resample`. `only`, when given, picks the intervals
    worth computing (an x-of-y baseline reads a few quarter hours of each of many days); the others are left out.
    """
    if not 0.0 <= min_coverage <= 1.0:
        raise CurtailmentRefused("min_coverage", f"{min_coverage:g} is outside 0–1")
    checked = sorted(
        (*checked_segment(Segment(s.start, s.end, s.kw), f"meter step {i}"), bool(s.estimated)) for i, s in enumerate(steps)
    )
    for previous, following in zip(checked, checked[1:], strict=False):
        if following[0] < previous[1]:
            raise CurtailmentRefused("meter steps", f"steps overlap at {following[0].isoformat()}")
    result, first = [], 0
    for slot in event_slots(start, end):  # slots and steps both in time order: one sweep, not slots × steps
        while first < len(checked) and checked[first][1] <= slot:
            first += 1
        if only is not None and not only(slot):
            continue
        inside = []
        for step in checked[first:]:
            if step[0] >= slot + QUARTER:
                break
            inside.append(step)
        result.append(_stepped(slot, inside, min_coverage))
    return tuple(result)


def _stepped(slot: datetime, steps: list[tuple[datetime, datetime, float, bool]], min_coverage: float) -> Measured:
    """The 15-minute mean of the steps that overlap `slot` (given, in time order)."""
    slot_end = slot + QUARTER
    parts = [(kw, min(end, slot_end) - max(start, slot), estimated) for start, end, kw, estimated in steps]
    if not parts:
        return Measured(slot, None, 0, 0.0, frozenset({Flag.MISSING}))
    coverage = sum((held for _, held, _ in parts), timedelta(0)) / QUARTER
    kw = bounded_mean([kw for kw, _, _ in parts], [held.total_seconds() for _, held, _ in parts])
    flags = {Flag.PARTIAL} if coverage < min_coverage else set()
    if any(estimated for _, _, estimated in parts):
        flags.add(Flag.ESTIMATED)
    return Measured(slot, kw, len(parts), coverage, frozenset(flags))

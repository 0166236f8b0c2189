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

from collections.abc import Iterable
from datetime import datetime, timedelta

from mapping.curtailment._common import (
    CurtailmentRefused,
    Flag,
    Measured,
    Sample,
    bounded_mean,
    event_slots,
    require_aware,
    require_finite,
)
from mapping.grid import QUARTER, floor_slot

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

"""Achieved curtailment per event interval: baseline − measured, against what was requested. Pure.

Signs: power in kW with consumption positive, so achieved = baseline − measured is positive when
the site drew less than its baseline (load reduced, or export increased) and negative when it drew
more. Energy is power × 0.25 h per interval. A value is computed only where all its inputs exist;
otherwise it is None and the interval carries `missing`. Flags are the union of the inputs' flags.
"""

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from mapping.curtailment._common import (
    INTERVAL_HOURS,
    Baseline,
    CurtailmentRefused,
    Flag,
    Measured,
    checked_segment,
    index_by_start,
    require_finite,
)
from mapping.grid import QUARTER, Segment, is_on_grid


@dataclass(frozen=True)
class Achieved:
    """Curtailment over one 15-minute event interval [start, start + 15 min)."""

    start: datetime
    baseline_kw: float | None
    measured_kw: float | None
    achieved_kw: float | None  # baseline − measured; positive = load reduced
    achieved_kwh: float | None  # achieved_kw × 0.25 h
    requested_kw: float | None  # the reduction asked for, when known
    requested_kwh: float | None
    ratio: float | None  # achieved / requested; None when either is unknown or nothing was requested
    flags: frozenset[Flag]

    @property
    def end(self) -> datetime:
        """start + 15 minutes."""
        return self.start + QUARTER


@dataclass(frozen=True)
class EventTotals:
    """Sums over an event's intervals."""

    intervals: int
    valued: int  # intervals with an achieved value
    achieved_kwh: float | None  # None unless every interval has a value: a sum with holes is not the event's
    achieved_kwh_valued: float  # the sum over the intervals that have a value
    requested_kwh: float | None  # None unless every interval has a requested value
    ratio: float | None  # achieved_kwh / requested_kwh, None when either is None or requested_kwh is 0
    flags: frozenset[Flag]


def slot_values(segments: Iterable[Segment], what: str) -> dict[datetime, float]:
    """The value of each 15-minute interval the segments cover (as `mapping.flex.combine` makes them).

    Refuses segments off the grid (an interval with two values has no single one) and overlapping
    segments (two values for one moment).
    """
    values: dict[datetime, float] = {}
    for i, segment in enumerate(segments):
        start, end, value = checked_segment(segment, f"{what} segment {i}")
        if not (is_on_grid(start) and is_on_grid(end)):
            raise CurtailmentRefused(
                f"{what} segment {i}", f"[{start.isoformat()}, {end.isoformat()}) is not on the 15-minute grid"
            )
        slot = start
        while slot < end:
            if slot in values:
                raise CurtailmentRefused(f"{what} segments", f"overlap at {slot.isoformat()}")
            values[slot] = value
            slot += QUARTER
    return values


def requested_from_limit(baseline_kw: float | None, limit_kw: float | None) -> float | None:
    """The reduction an import limit asks for: max(0, baseline − limit); None when either is unknown.

    A limit above the baseline asks for nothing: the site would have stayed under it anyway.
    """
    if baseline_kw is None or limit_kw is None:
        return None
    return max(0.0, baseline_kw - limit_kw)


def achieved(
    baseline: Iterable[Baseline],
    measured: Iterable[Measured],
    *,
    requested: Iterable[Segment] | None = None,
    import_limit: Iterable[Segment] | None = None,
) -> tuple[Achieved, ...]:
    """Achieved curtailment of each baseline interval (the event's intervals), in time order.

    `measured` is what `resample` returns; intervals outside the baseline's are ignored, a baseline
    interval without a measured one is `missing`. The requested reduction comes either directly
    (`requested`, kW per interval, negative for a requested increase) or from an `import_limit`
    (kW, e.g. `combine(...)[IMPORT_LIMIT]`), not both: they could disagree. An interval no request
    or limit covers has no requested value (None, not 0: nobody said nothing was asked).
    """
    if requested is not None and import_limit is not None:
        raise CurtailmentRefused("import_limit", "give the requested reduction or the import limit, not both")
    asked = slot_values(requested, "requested") if requested is not None else {}
    limits = slot_values(import_limit, "import limit") if import_limit is not None else {}
    meter = index_by_start(measured, "measured")
    result = []
    for start, base in sorted(index_by_start(baseline, "baseline").items()):
        reading = meter.get(start)
        baseline_kw = _finite(base.kw, f"baseline at {start.isoformat()}")
        measured_kw = _finite(reading.kw if reading is not None else None, f"measured at {start.isoformat()}")
        flags = set(base.flags) | (set(reading.flags) if reading is not None else {Flag.MISSING})
        achieved_kw = baseline_kw - measured_kw if baseline_kw is not None and measured_kw is not None else None
        if achieved_kw is None:
            flags.add(Flag.MISSING)
        requested_kw = requested_from_limit(baseline_kw, limits.get(start)) if import_limit is not None else asked.get(start)
        ratio = None
        if requested_kw == 0.0:
            flags.add(Flag.NOTHING_REQUESTED)
        elif requested_kw is not None and achieved_kw is not None:
            ratio = achieved_kw / requested_kw
        kwh = _kwh(achieved_kw), _kwh(requested_kw)
        result.append(
            Achieved(start, baseline_kw, measured_kw, achieved_kw, kwh[0], requested_kw, kwh[1], ratio, frozenset(flags))
        )
    return tuple(result)


def _finite(kw: float | None, what: str) -> float | None:
    return require_finite(kw, what) if kw is not None else None


def _kwh(kw: float | None) -> float | None:
    return kw * INTERVAL_HOURS if kw is not None else None


def totals(intervals: Iterable[Achieved]) -> EventTotals:
    """Energy totals and the overall ratio of an event; totals with a hole are None (see `EventTotals`)."""
    items = list(intervals)
    achieved_known = [i.achieved_kwh for i in items if i.achieved_kwh is not None]
    requested_known = [i.requested_kwh for i in items if i.requested_kwh is not None]
    achieved_kwh = math.fsum(achieved_known) if len(achieved_known) == len(items) else None
    requested_kwh = math.fsum(requested_known) if len(requested_known) == len(items) else None
    flags = {flag for i in items for flag in i.flags}
    ratio = None
    if requested_kwh == 0.0:
        flags.add(Flag.NOTHING_REQUESTED)
    elif achieved_kwh is not None and requested_kwh is not None:
        ratio = achieved_kwh / requested_kwh
    valued_kwh = math.fsum(achieved_known)
    return EventTotals(len(items), len(achieved_known), achieved_kwh, valued_kwh, requested_kwh, ratio, frozenset(flags))

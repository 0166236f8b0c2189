"""The X-of-Y baseline with day selection ("high X of Y"): the standard customer baseline of PJM, NYISO and CAISO. Pure.

1. The Y most recent days like the event day (`calendar.similar_days`: weekdays or weekend/holiday days,
   earlier event days passed over).
2. Of those, the X days with the highest mean load over the event's intervals (ties: the more recent).
   A day is ranked as a whole, so one noisy quarter hour cannot pick a day for that quarter hour alone:
   taking the X highest *values per interval* would ride every interval's noise upwards.
3. The baseline of each event interval is the mean of that interval (same wall-clock time) over the
   chosen days. "10 of 10" (`x = y = 10`) is the plain average.
4. Optionally a day-of adjustment (`adjustment`): the event day's level before the notice against the
   same chosen days over the same window.

A chosen day without a value for some interval is left out of that interval's mean; fewer values than
X, or fewer similar days than Y, → `insufficient_history`; no value → None and `missing`.
"""

import math
from collections.abc import Collection, Iterable, Sequence
from datetime import date, datetime

from mapping.curtailment._common import (
    Baseline,
    CurtailmentRefused,
    Flag,
    Measured,
    bounded_mean,
    event_slots,
    index_by_start,
    inherited_flags,
    valued,
)
from mapping.curtailment.adjustment import UNADJUSTED, Adjustment, adjust
from mapping.curtailment.calendar import DEFAULT_LOOKBACK_DAYS, MARTINIQUE, WEEKDAYS, days_earlier, local_day, similar_days
from mapping.grid import QUARTER


def check_x_of_y(x: int, y: int) -> None:
    """Refuses an X and Y no day selection can meet."""
    if not 1 <= x <= y:
        raise CurtailmentRefused("x", f"x-of-y needs 1 ≤ x ≤ y, got x={x}, y={y}")


def _back(day: date, slots: Sequence[datetime], calendar: str) -> int:
    """How many days `day` lies before the event's day."""
    return (local_day(slots[0], calendar) - day).days


def choose_days(
    slots: Sequence[datetime],
    candidates: Sequence[date],
    x: int,
    history: dict[datetime, Measured],
    calendar: str = MARTINIQUE,
    low_usage_share: float = 0.0,
) -> tuple[date, ...]:
    """The `x` candidate days with the highest mean load over `slots` (their wall-clock times), highest first.

    A day with no value in any of those intervals cannot be ranked and is not chosen; nor is a low-usage day,
    whose mean is below `low_usage_share` of the candidates' average (an outage, a holiday week: PJM and NYISO
    drop days under 25 %), when that average is a load at all.
    """
    ranked: list[tuple[float, date]] = []
    for day in candidates:
        back = _back(day, slots, calendar)
        values = [kw for kw, _ in valued(history, (days_earlier(slot, back, calendar) for slot in slots))]
        if values:
            ranked.append((math.fsum(values) / len(values), day))
    average = math.fsum(mean for mean, _ in ranked) / len(ranked) if ranked else 0.0
    if average > 0:
        ranked = [(mean, day) for mean, day in ranked if mean >= low_usage_share * average]
    ranked.sort(reverse=True)  # by mean, then the later day first
    return tuple(day for _, day in ranked[:x])


def profile(
    slots: Iterable[datetime], backs: Sequence[int], x: int, history: dict[datetime, Measured], calendar: str = MARTINIQUE
) -> tuple[Baseline, ...]:
    """Per slot, the mean of the same wall-clock interval `backs` days earlier (the chosen days)."""
    result = []
    for slot in slots:
        used = valued(history, (days_earlier(slot, back, calendar) for back in backs))
        flags = inherited_flags(used)
        if len(used) < x:
            flags.add(Flag.INSUFFICIENT_HISTORY)
        kw = bounded_mean([kw for kw, _ in used], [1.0] * len(used)) if used else None
        if kw is None:
            flags.add(Flag.MISSING)
        result.append(Baseline(slot, kw, frozenset(flags), tuple(sorted(m.start for _, m in used))))
    return tuple(result)


def x_of_y(
    event_start: datetime,
    event_end: datetime,
    history: Iterable[Measured],
    x: int = 4,
    y: int = 5,
    days: str = WEEKDAYS,
    *,
    calendar: str = MARTINIQUE,
    excluded_days: Collection[date] = (),
    lookback_days: int = DEFAULT_LOOKBACK_DAYS,
    low_usage_share: float = 0.0,
    notified: datetime | None = None,
    adjustment: Adjustment = UNADJUSTED,
) -> tuple[Baseline, ...]:
    """Per event interval, the mean over the X highest of the Y similar days (module docstring), adjusted if asked."""
    check_x_of_y(x, y)
    slots = event_slots(event_start, event_end)
    indexed = index_by_start(history, "history")
    candidates = similar_days(local_day(slots[0], calendar), y, days, calendar, excluded_days, lookback_days)
    backs = [_back(day, slots, calendar) for day in choose_days(slots, candidates, x, indexed, calendar, low_usage_share)]
    baselines = profile(slots, backs, x, indexed, calendar)
    if len(candidates) < y:
        baselines = tuple(Baseline(b.start, b.kw, b.flags | {Flag.INSUFFICIENT_HISTORY}, b.used) for b in baselines)
    if not adjustment.active:
        return baselines
    window = adjustment.window(event_start, notified)
    window_baseline = {b.start: b.kw for b in profile(window, backs, x, indexed, calendar) if b.kw is not None}
    return adjust(baselines, window_baseline, indexed, adjustment, window)


def x_of_y_window(
    event_start: datetime,
    event_end: datetime,
    y: int,
    days: str = WEEKDAYS,
    *,
    calendar: str = MARTINIQUE,
    excluded_days: Collection[date] = (),
    lookback_days: int = DEFAULT_LOOKBACK_DAYS,
    notified: datetime | None = None,
    adjustment: Adjustment = UNADJUSTED,
) -> tuple[datetime, datetime]:
    """[start, end) of the measurements `x_of_y` reads: from the earliest similar day to the event's day (one query)."""
    slots = event_slots(event_start, event_end)
    window = adjustment.window(event_start, notified) if adjustment.active else ()
    candidates = similar_days(local_day(slots[0], calendar), y, days, calendar, excluded_days, lookback_days)
    if not candidates:
        return slots[0], slots[0]
    start = days_earlier(min((slots[0], *window)), _back(candidates[-1], slots, calendar), calendar)
    end = days_earlier(slots[-1], _back(candidates[0], slots, calendar), calendar) + QUARTER
    return (start, max(end, window[-1] + QUARTER)) if window else (start, end)

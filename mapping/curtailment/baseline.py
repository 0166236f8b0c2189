"""Baselines: what the site would have consumed without the event, per 15-minute event interval. Pure.

Three methods, chosen per program with a `BaselineConfig`:

* `rectangle`: the mean of the `minutes` before the event, flat over the event;
* `x-of-y`: per interval, the mean of the `x` highest same-interval values of the last `y` eligible
  days (weekdays, weekends, all, or the event day's kind; excluded days such as holidays and past
  event days are passed over);
* `counterfactual`: the caller's schedule of the site without the event (a FlexMeasures schedule,
  say), averaged onto the grid and checked.

History is what `mapping.curtailment.resample` returns. Values are never invented: an interval
with nothing to compute from has the value None and the flag `missing`.
"""

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from mapping.curtailment._common import (
    LOCAL_TZ,
    CurtailmentRefused,
    Flag,
    Measured,
    bounded_mean,
    checked_segment,
    event_slots,
    index_by_start,
    require_aware,
    require_finite,
)
from mapping.grid import QUARTER, Segment

RECTANGLE, X_OF_Y, COUNTERFACTUAL = "rectangle", "x-of-y", "counterfactual"
METHODS = (RECTANGLE, X_OF_Y, COUNTERFACTUAL)
WEEKDAYS, WEEKENDS, ALL_DAYS, SAME_KIND = "weekdays", "weekends", "all", "same-kind"
DAY_KINDS = (WEEKDAYS, WEEKENDS, ALL_DAYS, SAME_KIND)
#: flags a value passes on to what is computed from it (`missing` is decided anew by each method)
_INHERITED = frozenset({Flag.PARTIAL, Flag.ESTIMATED})


@dataclass(frozen=True)
class BaselineConfig:
    """A program's baseline method and its parameters (those of the other methods are ignored)."""

    method: str
    minutes: int = 60  # rectangle: length of the reference window just before the event
    x: int = 4  # x-of-y: how many of the highest days are averaged
    y: int = 5  # x-of-y: how many eligible days are looked at
    days: str = WEEKDAYS  # x-of-y: which previous days are eligible

    def __post_init__(self) -> None:
        """Refuses settings no method can use, when the program is configured rather than mid-event."""
        if self.method not in METHODS:
            raise CurtailmentRefused("method", f"{self.method!r} is not one of {', '.join(METHODS)}")
        if self.method == RECTANGLE:
            _check_minutes(self.minutes)
        if self.method == X_OF_Y:
            _check_x_of_y(self.x, self.y, self.days)


@dataclass(frozen=True)
class Baseline:
    """The baseline over one 15-minute event interval [start, start + 15 min)."""

    start: datetime
    kw: float | None
    flags: frozenset[Flag]
    #: starts of the history intervals the value was computed from (empty for a counterfactual)
    used: tuple[datetime, ...] = ()

    @property
    def end(self) -> datetime:
        """start + 15 minutes."""
        return self.start + QUARTER


def _check_minutes(minutes: int) -> None:
    if minutes <= 0 or minutes % 15:
        raise CurtailmentRefused("minutes", f"{minutes} must be a positive multiple of 15 (whole intervals)")


def _check_x_of_y(x: int, y: int, days: str) -> None:
    if not 1 <= x <= y:
        raise CurtailmentRefused("x", f"x-of-y needs 1 ≤ x ≤ y, got x={x}, y={y}")
    if days not in DAY_KINDS:
        raise CurtailmentRefused("days", f"{days!r} is not one of {', '.join(DAY_KINDS)}")


def _valued(history: dict[datetime, Measured], starts: Iterable[datetime]) -> list[tuple[float, Measured]]:
    """(value, interval) of the intervals at `starts` that have a value."""
    found = [m for m in (history.get(s) for s in starts) if m is not None]
    return [(require_finite(m.kw, f"history at {m.start.isoformat()}"), m) for m in found if m.kw is not None]


def _inherited(used: Iterable[tuple[float, Measured]]) -> set[Flag]:
    return {flag for _, m in used for flag in m.flags if flag in _INHERITED}


def rectangle(event_start: datetime, event_end: datetime, history: Iterable[Measured], minutes: int = 60) -> tuple[Baseline, ...]:
    """Flat baseline: the mean power over the `minutes` before the interval holding the event start.

    The mean is over measured time (each interval weighted by its coverage), so a partial interval
    counts for what it saw. Fewer valued intervals than the window holds → `insufficient_history`;
    none → None and `missing`.
    """
    _check_minutes(minutes)
    slots = event_slots(event_start, event_end)
    window = [slots[0] - QUARTER * i for i in range(minutes // 15, 0, -1)]
    used = _valued(index_by_start(history, "history"), window)
    flags = _inherited(used)
    if len(used) < len(window):
        flags.add(Flag.INSUFFICIENT_HISTORY)
    kw = bounded_mean([kw for kw, _ in used], [m.coverage for _, m in used]) if used else None
    if kw is None:
        flags.add(Flag.MISSING)
    starts = tuple(m.start for _, m in used)
    return tuple(Baseline(slot, kw, frozenset(flags), starts) for slot in slots)


def _is_weekend(day: date) -> bool:
    return day.weekday() >= 5


def eligible_days(event_day: date, y: int, days: str = WEEKDAYS, excluded_days: Collection[date] = ()) -> tuple[date, ...]:
    """The `y` days before `event_day` (latest first) of the wanted kind and not excluded.

    Days are Martinique calendar days. Excluded days (holidays, earlier event days: the caller
    knows them) are passed over and the search goes further back, so a holiday does not shrink
    the baseline.
    """
    _check_x_of_y(1, y, days)
    wanted = {WEEKDAYS: (False,), WEEKENDS: (True,), ALL_DAYS: (False, True), SAME_KIND: (_is_weekend(event_day),)}[days]
    excluded = frozenset(excluded_days)
    found: list[date] = []
    day = event_day
    while len(found) < y:  # ends: finitely many days are excluded and every week has days of each kind
        day -= timedelta(days=1)
        if _is_weekend(day) in wanted and day not in excluded:
            found.append(day)
    return tuple(found)


def local_day(moment: datetime) -> date:
    """The Martinique calendar day of `moment`."""
    return require_aware(moment, "moment").astimezone(LOCAL_TZ).date()


def x_of_y(
    event_start: datetime,
    event_end: datetime,
    history: Iterable[Measured],
    x: int = 4,
    y: int = 5,
    days: str = WEEKDAYS,
    excluded_days: Collection[date] = (),
) -> tuple[Baseline, ...]:
    """Per event interval, the mean of the `x` highest same-interval values among the last `y` eligible days.

    The days are those of `eligible_days` for the Martinique day of the event's first interval; a
    day's same interval is the event interval moved back by whole days (Martinique keeps UTC−4 all
    year, so a day is always 24 h and the wall-clock time is kept). A day without a value for an
    interval is skipped for that interval; fewer than `x` values → `insufficient_history` (the mean
    of those there are), none → None and `missing`. Ties go to the more recent day.
    """
    _check_x_of_y(x, y, days)
    slots = event_slots(event_start, event_end)
    anchor = local_day(slots[0])
    back = [anchor - day for day in eligible_days(anchor, y, days, excluded_days)]
    indexed = index_by_start(history, "history")
    result = []
    for slot in slots:
        candidates = _valued(indexed, (slot - shift for shift in back))
        used = sorted(candidates, key=lambda pair: (pair[0], pair[1].start), reverse=True)[:x]
        flags = _inherited(used)
        if len(used) < x:
            flags.add(Flag.INSUFFICIENT_HISTORY)
        kw = bounded_mean([kw for kw, _ in used], [1.0] * len(used)) if used else None
        if kw is None:
            flags.add(Flag.MISSING)
        result.append(Baseline(slot, kw, frozenset(flags), tuple(sorted(m.start for _, m in used))))
    return tuple(result)


def counterfactual(event_start: datetime, event_end: datetime, schedule: Iterable[Segment]) -> tuple[Baseline, ...]:
    """The site's schedule without the event, as 15-minute means over the event intervals.

    `schedule` is constant power over each segment [start, end) (a FlexMeasures schedule of any
    resolution becomes one segment per step). Segments must be time-zone aware, non-empty, finite
    and must not overlap (two values for one moment: which is the plan?). An interval the schedule
    does not reach is `missing`; one it covers only in part gets the mean over the covered part and
    `partial`.
    """
    steps = sorted(checked_segment(segment, f"schedule segment {i}") for i, segment in enumerate(schedule))
    for (_, end, _), (start, _, _) in zip(steps, steps[1:], strict=False):
        if start < end:
            raise CurtailmentRefused("schedule", f"segments overlap at {start.isoformat()}")
    return tuple(_scheduled(slot, steps) for slot in event_slots(event_start, event_end))


def _scheduled(slot: datetime, steps: Sequence[tuple[datetime, datetime, float]]) -> Baseline:
    slot_end = slot + QUARTER
    parts = [(value, min(end, slot_end) - max(start, slot)) for start, end, value in steps if start < slot_end and end > slot]
    if not parts:
        return Baseline(slot, None, frozenset({Flag.MISSING}))
    covered = sum((held for _, held in parts), timedelta(0))
    kw = bounded_mean([value for value, _ in parts], [held.total_seconds() for _, held in parts])
    return Baseline(slot, kw, frozenset({Flag.PARTIAL}) if covered < QUARTER else frozenset())


def history_window(
    config: BaselineConfig, event_start: datetime, event_end: datetime, excluded_days: Collection[date] = ()
) -> tuple[datetime, datetime] | None:
    """[start, end) of the measurements the baseline reads (to fetch and resample), None for a counterfactual.

    For x-of-y the window spans from the earliest to the latest eligible day: more than is read,
    but one query.
    """
    slots = event_slots(event_start, event_end)
    if config.method == RECTANGLE:
        return slots[0] - timedelta(minutes=config.minutes), slots[0]
    if config.method == X_OF_Y:
        anchor = local_day(slots[0])
        chosen = eligible_days(anchor, config.y, config.days, excluded_days)
        return slots[0] - (anchor - chosen[-1]), slots[-1] + QUARTER - (anchor - chosen[0])
    return None


def compute_baseline(
    config: BaselineConfig,
    event_start: datetime,
    event_end: datetime,
    *,
    history: Iterable[Measured] = (),
    schedule: Iterable[Segment] | None = None,
    excluded_days: Collection[date] = (),
) -> tuple[Baseline, ...]:
    """The baseline of each event interval by the program's method.

    Rectangle and x-of-y read `history` (resampled measurements covering `history_window`);
    counterfactual reads `schedule` and refuses to run without one.
    """
    if config.method == RECTANGLE:
        return rectangle(event_start, event_end, history, config.minutes)
    if config.method == X_OF_Y:
        return x_of_y(event_start, event_end, history, config.x, config.y, config.days, excluded_days)
    if schedule is None:
        raise CurtailmentRefused("schedule", "the counterfactual baseline needs the site's schedule without the event")
    return counterfactual(event_start, event_end, schedule)

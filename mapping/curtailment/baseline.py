"""Baselines: what the site would have consumed without the event, per 15-minute event interval. Pure.

A program names its method in a `BaselineConfig`; `compute_baseline` runs it and `describe` says it in
words wherever a number computed with it is shown. The methods (docs/curtailment.md cites each):

| method               | module          | what it reads                                              |
|----------------------|-----------------|------------------------------------------------------------|
| `x-of-y`             | `x_of_y`        | the X highest of the Y similar days before, day-of adjusted |
| `rectangle`          | `reference`     | the level before the notice (NEBEF/NEBCO rectangle)         |
| `rectangle-double`   | `reference`     | the levels before the notice and after the event           |
| `meter-before-after` | `reference`     | a device's own meter just before the notice (NAESB MBMA)    |
| `control-group`      | `control_group` | matched sites that were not called, day-of adjusted         |
| `counterfactual`     | here            | the caller's schedule of the site without the event         |

History is what `resample` (or `step_means`) returns. Values are never invented: an interval with
nothing to compute from has the value None and the flag `missing`.
"""

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from mapping.curtailment._common import (
    Baseline,
    CurtailmentRefused,
    Measured,
    event_slots,
    reference_end,
)
from mapping.curtailment.adjustment import Adjustment
from mapping.curtailment.calendar import DAY_KINDS, DEFAULT_LOOKBACK_DAYS, MARTINIQUE, WEEKDAYS, check_calendar
from mapping.curtailment.control_group import control_group
from mapping.curtailment.reference import after_window, before_window, check_minutes, rectangle, rectangle_double
from mapping.curtailment.resampling import MeterStep, step_means
from mapping.curtailment.x_of_y import check_x_of_y, x_of_y, x_of_y_window
from mapping.grid import QUARTER, Segment

RECTANGLE, RECTANGLE_DOUBLE, METER_BEFORE_AFTER = "rectangle", "rectangle-double", "meter-before-after"
X_OF_Y, CONTROL_GROUP, COUNTERFACTUAL = "x-of-y", "control-group", "counterfactual"
METHODS = (X_OF_Y, RECTANGLE, RECTANGLE_DOUBLE, METER_BEFORE_AFTER, CONTROL_GROUP, COUNTERFACTUAL)
_REFERENCE = (RECTANGLE, RECTANGLE_DOUBLE, METER_BEFORE_AFTER)


@dataclass(frozen=True)
class BaselineConfig:
    """A program's baseline method and its parameters (those of the other methods are ignored)."""

    method: str
    minutes: int = 60  # rectangle family: the reference window's length
    neutralisation_minutes: int = 0  # rectangle family: the gap between a reference window and the notice / the event
    x: int = 4  # x-of-y: how many of the highest days are averaged
    y: int = 5  # x-of-y: how many similar days are looked at
    days: str = WEEKDAYS  # x-of-y: which earlier days are similar (weekdays, weekends, same-kind, all)
    holidays: str = MARTINIQUE  # x-of-y: the public-holiday calendar (FR-972, FR, none)
    lookback_days: int = DEFAULT_LOOKBACK_DAYS  # x-of-y: how far back similar days are searched for
    low_usage_share: float = 0.25  # x-of-y: days below this share of the candidates' mean load are not chosen
    adjustment: Adjustment = field(default_factory=Adjustment)  # x-of-y, control-group: the day-of adjustment

    def __post_init__(self) -> None:
        """Refuses settings no method can use, when the program is configured rather than mid-event."""
        if self.method not in METHODS:
            raise CurtailmentRefused("method", f"{self.method!r} is not one of {', '.join(METHODS)}")
        if self.method in _REFERENCE:
            check_minutes(self.minutes)
            check_minutes(self.neutralisation_minutes, "neutralisation_minutes", allow_zero=True)
        if self.method == X_OF_Y:
            check_x_of_y(self.x, self.y)
            if self.days not in DAY_KINDS:
                raise CurtailmentRefused("days", f"{self.days!r} is not one of {', '.join(DAY_KINDS)}")
            check_calendar(self.holidays)
            if not 0.0 <= self.low_usage_share < 1.0:
                raise CurtailmentRefused("low_usage_share", f"{self.low_usage_share!r} must be a share in [0, 1)")
            if self.lookback_days < self.y:
                raise CurtailmentRefused("lookback_days", f"{self.lookback_days} cannot hold y={self.y} days")


def describe(config: BaselineConfig) -> str:
    """The method and its parameters in words: shown beside every figure computed with it."""
    if config.method == X_OF_Y:
        return (
            f"x-of-y: high {config.x} of {config.y} {config.days} (holidays {config.holidays}, earlier event days "
            f"and days under {config.low_usage_share:.0%} of the mean excluded), {config.adjustment.describe()}"
        )
    if config.method in _REFERENCE:
        after = " and after the event" if config.method == RECTANGLE_DOUBLE else ""
        meter = " on the device's own meter" if config.method == METER_BEFORE_AFTER else ""
        return (
            f"{config.method}: mean of {config.minutes} min before the notice{after}{meter}, "
            f"{config.neutralisation_minutes} min neutralised"
        )
    if config.method == CONTROL_GROUP:
        return f"control-group: mean of matched sites not called, {config.adjustment.describe()}"
    return "counterfactual: the site's own schedule without the event"


def counterfactual(event_start: datetime, event_end: datetime, schedule: Iterable[Segment]) -> tuple[Baseline, ...]:
    """The site's schedule without the event, as 15-minute means over the event intervals.

    `schedule` is constant power over each segment [start, end) (a FlexMeasures schedule of any
    resolution becomes one segment per step). Segments must be time-zone aware, non-empty, finite
    and must not overlap (two values for one moment: which is the plan?). An interval the schedule
    does not reach is `missing`; one it covers only in part gets the mean over the covered part and
    `partial`.
    """
    steps = [MeterStep(segment.start, segment.end, segment.value) for segment in schedule]
    try:
        means = step_means(steps, event_start, event_end, min_coverage=1.0)
    except CurtailmentRefused as exc:
        raise CurtailmentRefused("schedule", exc.reason) from exc
    return tuple(Baseline(m.start, m.kw, m.flags) for m in means)


def history_window(
    config: BaselineConfig,
    event_start: datetime,
    event_end: datetime,
    excluded_days: Collection[date] = (),
    notified: datetime | None = None,
) -> tuple[datetime, datetime] | None:
    """[start, end) of the measurements the baseline reads (to fetch and resample), None for a counterfactual.

    One span per method: for x-of-y from the earliest similar day to the event's day, more than is read
    but one query; for a control group the called site's adjustment window (the controls need that and the event).
    """
    slots = event_slots(event_start, event_end)
    if config.method in (RECTANGLE, METER_BEFORE_AFTER):
        window = before_window(event_start, config.minutes, config.neutralisation_minutes, notified)
        return window[0], window[-1] + QUARTER
    if config.method == RECTANGLE_DOUBLE:
        before = before_window(event_start, config.minutes, config.neutralisation_minutes, notified)
        after = after_window(event_end, config.minutes, config.neutralisation_minutes)
        return before[0], after[-1] + QUARTER
    if config.method == X_OF_Y:
        return x_of_y_window(
            event_start,
            event_end,
            config.y,
            config.days,
            calendar=config.holidays,
            excluded_days=excluded_days,
            lookback_days=config.lookback_days,
            notified=notified,
            adjustment=config.adjustment,
        )
    if config.method == CONTROL_GROUP:
        window = config.adjustment.window(event_start, notified) if config.adjustment.active else ()
        return (window[0] if window else reference_end(event_start, notified)), slots[-1] + QUARTER
    return None


def compute_baseline(
    config: BaselineConfig,
    event_start: datetime,
    event_end: datetime,
    *,
    history: Iterable[Measured] = (),
    schedule: Iterable[Segment] | None = None,
    controls: Sequence[Iterable[Measured]] = (),
    excluded_days: Collection[date] = (),
    notified: datetime | None = None,
) -> tuple[Baseline, ...]:
    """The baseline of each event interval by the program's method.

    `history` is the site's (or, for meter-before-after, the device's) resampled measurements covering
    `history_window`; `controls` the control sites' (control-group); `schedule` the site's plan without
    the event (counterfactual, refused without one); `notified` when the site was told (None: at the
    event's start); `excluded_days` the program's earlier event days (x-of-y).
    """
    if config.method in (RECTANGLE, METER_BEFORE_AFTER):
        return rectangle(
            event_start, event_end, history, config.minutes, notified=notified, neutralisation=config.neutralisation_minutes
        )
    if config.method == RECTANGLE_DOUBLE:
        return rectangle_double(
            event_start, event_end, history, config.minutes, notified=notified, neutralisation=config.neutralisation_minutes
        )
    if config.method == X_OF_Y:
        return x_of_y(
            event_start,
            event_end,
            history,
            config.x,
            config.y,
            config.days,
            calendar=config.holidays,
            excluded_days=excluded_days,
            lookback_days=config.lookback_days,
            low_usage_share=config.low_usage_share,
            notified=notified,
            adjustment=config.adjustment,
        )
    if config.method == CONTROL_GROUP:
        return control_group(event_start, event_end, history, controls, notified=notified, adjustment=config.adjustment)
    if schedule is None:
        raise CurtailmentRefused("schedule", "the counterfactual baseline needs the site's schedule without the event")
    return counterfactual(event_start, event_end, schedule)

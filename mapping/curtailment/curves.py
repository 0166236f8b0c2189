"""One site's baseline and achieved curtailment from load curves: what the settling party computes. Pure.

The meter data are mean-power steps (`meter_file.parse_load_curves`, or a VEN's reports turned into
steps); `measure` turns them into the 15-minute means a method reads, and `site_curtailment` runs the
program's method over the event and sets measured against it, interval by interval.
"""

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from mapping.curtailment._common import Baseline, CurtailmentRefused, Measured, event_slots
from mapping.curtailment.achieved import Achieved, achieved
from mapping.curtailment.baseline import CONTROL_GROUP, COUNTERFACTUAL, X_OF_Y, BaselineConfig, compute_baseline, history_window
from mapping.curtailment.resampling import DEFAULT_MIN_COVERAGE, MeterStep, step_means

_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class SiteCurtailment:
    """A site's baseline and achieved curtailment over each event interval, side by side."""

    delivery_point: str
    baselines: tuple[Baseline, ...]
    intervals: tuple[Achieved, ...]


def measure(
    steps: Sequence[MeterStep],
    span: tuple[datetime, datetime] | None,
    min_coverage: float,
    only: Callable[[datetime], bool] | None = None,
) -> tuple[Measured, ...]:
    """The 15-minute means of `steps` over `span` (none without a span), of the intervals `only` picks."""
    if span is None or span[1] <= span[0]:
        return ()
    return step_means(steps, span[0], span[1], min_coverage=min_coverage, only=only)


def read_by(config: BaselineConfig, slots: Sequence[datetime], notified: datetime | None) -> Callable[[datetime], bool] | None:
    """For x-of-y, the test of the intervals its baseline can read: those at the wall-clock times of the event and
    of its adjustment window, an hour either way (a clock change on a mainland day); None (all) for the others."""
    if config.method != X_OF_Y:
        return None
    window = config.adjustment.window(slots[0], notified) if config.adjustment.active else ()
    day = timedelta(days=1)
    times = {(s - _EPOCH) % day for s in (*slots, *window)}
    wanted = {(t + shift) % day for t in times for shift in (-HOUR, timedelta(0), HOUR)}
    return lambda slot: (slot - _EPOCH) % day in wanted


def site_curtailment(
    curves: Mapping[str, Sequence[MeterStep]],
    delivery_point: str,
    config: BaselineConfig,
    start: datetime,
    end: datetime,
    *,
    notified: datetime | None = None,
    excluded_days: Collection[date] = (),
    controls: Sequence[str] = (),
    min_coverage: float = DEFAULT_MIN_COVERAGE,
) -> SiteCurtailment:
    """Baseline (by `config`), measured and achieved of `delivery_point` over [start, end).

    `controls` name the delivery points of the control group (control-group only); `excluded_days` the
    program's earlier event days; `notified` when the site was told.
    """
    if delivery_point not in curves:
        raise CurtailmentRefused("delivery_point", f"{delivery_point!r} is not in the meter data ({', '.join(sorted(curves))})")
    if config.method == COUNTERFACTUAL:
        raise CurtailmentRefused("method", "counterfactual needs the site's schedule, not a load curve")
    unknown = [c for c in controls if c not in curves]
    if unknown:
        raise CurtailmentRefused("controls", f"{', '.join(unknown)}: not in the meter data")
    if config.method == CONTROL_GROUP and not controls:
        raise CurtailmentRefused("controls", "the control-group method needs the delivery points of sites that were not called")
    window = history_window(config, start, end, excluded_days, notified)
    history = measure(curves[delivery_point], window, min_coverage, read_by(config, event_slots(start, end), notified))
    group_span = (window[0] if window else start, end) if config.method == CONTROL_GROUP else None
    group = [measure(curves[c], group_span, min_coverage) for c in controls]
    baselines = compute_baseline(
        config, start, end, history=history, controls=group, excluded_days=excluded_days, notified=notified
    )
    measured = step_means(curves[delivery_point], start, end, min_coverage=min_coverage)
    return SiteCurtailment(delivery_point, baselines, achieved(baselines, measured))

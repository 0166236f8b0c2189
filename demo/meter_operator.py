"""The meter operator of the demo: the load curves it delivers to the VTN, which settles on them.

Two curves per site, in the Cariflex CSV shape (`mapping.curtailment.meter_file`):
- the past days, before the demo began: the same site model the simulator runs (households, PV, EVs charging
  as they would uncontrolled, batteries idle), in 15-minute steps, in the scenario's time — what the
  site drew on the days the x-of-y baseline looks back on;
- the run itself, once the event is over: the simulator's own meter readings averaged over 5-minute steps.
"""

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from demo.simulator import advance, new_site
from mapping.curtailment import MeterStep
from mapping.grid import QUARTER, floor_slot
from ven.api import SiteConfig

#: the days of history: 10 weekdays for a 10-of-10 baseline, past weekends and holidays
HISTORY_DAYS = 16
#: the step of the run's recorded curve
RECORDED_STEP = timedelta(minutes=5)


def history_curves(configs: Sequence[SiteConfig], end: datetime, scenario_offset: timedelta) -> dict[str, list[MeterStep]]:
    """Each site's 15-minute load curve over the HISTORY_DAYS before `end` (floored to its quarter hour)."""
    sites = [new_site(config) for config in configs]
    stop = floor_slot(end)
    start = stop - timedelta(days=HISTORY_DAYS)
    curves: dict[str, list[MeterStep]] = {config.name: [] for config in configs}
    at = start
    while at < stop:
        for site in sites:
            kw, _ = advance(site, at, QUARTER / timedelta(hours=1), scenario_offset)
            curves[site.config.name].append(MeterStep(at, at + QUARTER, kw))
        at += QUARTER
    return curves


def recorded_curve(readings: Iterable[tuple[datetime, float]], start: datetime, end: datetime) -> list[MeterStep]:
    """5-minute mean power of the readings in [start, end); a window without a reading has no step."""
    windows: dict[datetime, list[float]] = {}
    for at, kw in readings:
        if start <= at < end:
            windows.setdefault(floor_slot(at, RECORDED_STEP), []).append(kw)
    return [MeterStep(at, at + RECORDED_STEP, sum(values) / len(values)) for at, values in sorted(windows.items())]

"""Baseline methods on households that did nothing, and on one that pre-charged: the bias table of docs/curtailment.md.

A seeded synthetic population (not a measurement of real homes): 21 households over 40 days of 15-minute
load — a night base, a morning and an evening peak, a day-to-day level that wanders (weather, visitors)
and noise on every quarter hour. The last 10 weekdays each carry an evening event 18:00–20:00 local,
notified at 16:00. Ten households take their turn as the "called" one, which does nothing; the other 20
are its control group.

Printed per method, over the 10 events:
- bias: the mean of (baseline − actual) / actual of the event energy: the curtailment a site that did
  nothing would be paid for (positive: phantom curtailment);
- |error|: the mean absolute relative error (how noisy the method is event by event);
- pre-charging: the extra kWh credited per event when, once told, the site draws 3 kW more from 17:00 to
  18:00 and nothing else changes (a method that rewards preparation credits it; 0 is right).
The last line, "per value" x-of-y, is the selection Cariflex used before (the 4 highest values of each
quarter hour among 5 days instead of the 4 highest days), kept here to show why it was replaced.

    .venv/bin/python bench/baseline_bias.py [--seed 7]
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mapping.curtailment import (  # noqa: E402
    ADDITIVE,
    MULTIPLICATIVE,
    Adjustment,
    Baseline,
    BaselineConfig,
    Measured,
    compute_baseline,
    history_window,
)
from mapping.curtailment._common import LOCAL_TZ  # noqa: E402
from mapping.curtailment.calendar import is_weekend_like, similar_days  # noqa: E402
from mapping.grid import QUARTER  # noqa: E402

DAYS, HOUSEHOLDS, EVENTS = 40, 21, 10
#: how many households take their turn as the called one (the other 20 are its control group)
CALLED = 10
FIRST_DAY = datetime(2026, 9, 28, tzinfo=LOCAL_TZ)  # a Monday; the last days reach November
EVENT_START, EVENT_END, NOTICE = time(18), time(20), time(16)
PRECHARGE_KW = 3.0


def _shape(hour: float) -> float:
    """A Martinique household's typical draw at a local hour (kW): base, morning and evening peaks."""
    morning = 0.8 * math.exp(-(((hour - 7.0) / 1.0) ** 2))
    evening = 1.6 * math.exp(-(((hour - 19.5) / 1.8) ** 2))
    return 0.5 + morning + evening


def household(rng: random.Random) -> dict[datetime, float]:
    """40 days of 15-minute mean load (kW), keyed by interval start (UTC)."""
    level, series = 1.0, {}
    scale = rng.uniform(0.7, 1.4)
    for day in range(DAYS):
        level = 1.0 + 0.6 * (level - 1.0) + rng.gauss(0, 0.12)  # a day-to-day level that wanders
        weekend = (FIRST_DAY + timedelta(days=day)).weekday() >= 5
        for quarter in range(96):
            at = FIRST_DAY + timedelta(days=day, minutes=15 * quarter)
            kw = scale * level * _shape(quarter / 4) * (1.15 if weekend else 1.0) * rng.lognormvariate(0, 0.25)
            series[at.astimezone(UTC)] = kw
    return series


def event_days() -> list[datetime]:
    """The local midnights of the last 10 weekdays of the period."""
    days = [FIRST_DAY + timedelta(days=d) for d in range(DAYS)]
    return [d for d in days if not is_weekend_like(d.date())][-EVENTS:]


def measured(series: dict[datetime, float], span: tuple[datetime, datetime] | None) -> list[Measured]:
    if span is None:
        return []
    out, at = [], span[0]
    while at < span[1]:
        if at in series:
            out.append(Measured(at, series[at], 1, 1.0, frozenset()))
        at += QUARTER
    return out


def energy(values: Sequence[float | None]) -> float:
    return sum(v for v in values if v is not None) * 0.25


def per_value_x_of_y(series: dict[datetime, float], start: datetime, end: datetime, x: int = 4, y: int = 5) -> list[Baseline]:
    """The former selection: per quarter hour, the mean of its x highest values among the y previous weekdays."""
    days = similar_days(start.astimezone(LOCAL_TZ).date(), y, "weekdays", "none")
    out, at = [], start
    while at < end:
        back = [at - (start.astimezone(LOCAL_TZ).date() - d) for d in days]
        values = sorted((series[b] for b in back if b in series), reverse=True)[:x]
        out.append(Baseline(at, statistics.fmean(values), frozenset()))
        at += QUARTER
    return out


Method = Callable[[dict[datetime, float], list[dict[datetime, float]], datetime, datetime, datetime, list], list[Baseline]]


def configured(config: BaselineConfig, use_notice: bool = True) -> Method:
    def run(
        series: dict[datetime, float],
        controls: list[dict[datetime, float]],
        start: datetime,
        end: datetime,
        notified: datetime,
        excluded: list,
    ) -> list[Baseline]:
        told = notified if use_notice else None
        window = history_window(config, start, end, excluded, told)
        group = [measured(c, (window[0], end)) for c in controls] if config.method == "control-group" else ()
        history = measured(series, window)
        return list(compute_baseline(config, start, end, history=history, controls=group, excluded_days=excluded, notified=told))

    return run


def methods() -> list[tuple[str, Method]]:
    """(short label, method): the label is what the table prints; docs/curtailment.md spells each out."""
    saa = Adjustment(ADDITIVE, minutes=180, gap_minutes=60, cap=None)
    ratio = Adjustment(MULTIPLICATIVE, minutes=120, gap_minutes=60, cap=0.2)
    difference = Adjustment(ADDITIVE, minutes=120, gap_minutes=0, cap=None)
    rectangle = BaselineConfig("rectangle", minutes=60)
    return [
        ("rectangle 60 min before the notice", configured(rectangle)),
        ("rectangle 60 min before the event start", configured(rectangle, use_notice=False)),
        (
            "rectangle-double 60 min, 30 min neutralised",
            configured(BaselineConfig("rectangle-double", neutralisation_minutes=30)),
        ),
        ("x-of-y high 4 of 5", configured(BaselineConfig("x-of-y", x=4, y=5))),
        ("x-of-y high 4 of 5 + additive 3 h (PJM-like)", configured(BaselineConfig("x-of-y", x=4, y=5, adjustment=saa))),
        ("x-of-y 5 of 10 + ratio 20 % (NYISO-like)", configured(BaselineConfig("x-of-y", x=5, y=10, adjustment=ratio))),
        (
            "x-of-y 10 of 10 + ratio 20 % (CAISO-like)",
            configured(BaselineConfig("x-of-y", x=10, y=10, low_usage_share=0.0, adjustment=ratio)),
        ),
        ("control group + additive 2 h", configured(BaselineConfig("control-group", adjustment=difference))),
        ("control group + ratio 20 %", configured(BaselineConfig("control-group", adjustment=ratio))),
        ("per value x-of-y 4 of 5 (former)", lambda s, c, start, end, n, e: per_value_x_of_y(s, start, end)),
    ]


def evaluate(seed: int) -> list[tuple[str, float, float, float]]:
    """(label, bias, mean absolute error, pre-charging credit) per method."""
    rng = random.Random(seed)
    homes = [household(rng) for _ in range(HOUSEHOLDS)]
    rows = []
    for name, method in methods():
        errors: list[float] = []
        credits: list[float] = []
        for turn in range(CALLED):
            _events(method, homes[turn], homes[:turn] + homes[turn + 1 :], errors, credits)
        rows.append((name, statistics.fmean(errors), statistics.fmean(abs(e) for e in errors), statistics.fmean(credits)))
    return rows


def _events(
    method: Method,
    called: dict[datetime, float],
    controls: list[dict[datetime, float]],
    errors: list[float],
    credits: list[float],
) -> None:
    """One household's events: the relative error of each, and what pre-charging adds to its baseline."""
    excluded: list = []
    for day in event_days():
        start = datetime.combine(day.date(), EVENT_START, LOCAL_TZ).astimezone(UTC)
        end = datetime.combine(day.date(), EVENT_END, LOCAL_TZ).astimezone(UTC)
        notified = datetime.combine(day.date(), NOTICE, LOCAL_TZ).astimezone(UTC)
        actual = energy([called[s.start] for s in measured(called, (start, end))])
        plain = energy([b.kw for b in method(called, controls, start, end, notified, excluded)])
        errors.append((plain - actual) / actual)
        prepared = dict(called)
        for quarter in range(4):
            prepared[start - timedelta(hours=1) + quarter * QUARTER] += PRECHARGE_KW
        credits.append(energy([b.kw for b in method(prepared, controls, start, end, notified, excluded)]) - plain)
        excluded.append(day.date())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    print(f"{CALLED} households in turn called, doing nothing; {EVENTS} events 18:00-20:00 notified 16:00; seed {args.seed}")
    print(f"| {'method':<46} | {'bias':>7} | {'|error|':>8} | {'pre-charging kWh':>16} |")
    print(f"|{'-' * 48}|{'-' * 8}:|{'-' * 9}:|{'-' * 17}:|")
    for name, bias, error, credit in evaluate(args.seed):
        print(f"| {name:<46} | {bias:>+7.1%} | {error:>8.1%} | {credit:>+16.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

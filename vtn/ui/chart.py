"""The curtailment chart of an event as inline SVG — a pure function of `EventCurtailment` data.

Requested limit, baseline and measured load are step lines (one value per interval), achieved
curtailment is a bar per interval. A missing value breaks its line rather than being invented.
Times read in the UI's zone (UTC in each label's tooltip); the kW axis ends on a round value just
above the data.
No script and no external resource: the page renders the same with no network.
"""

import math
from collections.abc import Callable, Sequence
from datetime import datetime, tzinfo
from html import escape

from vtn.curtailment.query import CurtailmentInterval
from vtn.ui.formatting import CLOCK, kw, local_time, utc_offset, utc_time, zone_abbreviation

WIDTH, HEIGHT = 760, 280
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 16, 44
SERIES = (
    ("requested_kw", "requested reduction", "#d62728"),
    ("baseline_kw", "baseline", "#7f7f7f"),
    ("measured_kw", "measured", "#1f77b4"),
)
ACHIEVED_COLOUR = "#2ca02c"
NICE_STEPS = (1.0, 2.0, 2.5, 5.0)
#: the value axis has about this many steps
AXIS_STEPS = 5
#: time labels: about this many, and none closer than this many pixels to the next
TIME_TICKS, TICK_GAP = 8, 40


def _nice_step(rough: float) -> float:
    """The smallest 1, 2, 2.5 or 5 × 10^n at or above `rough` (> 0)."""
    power = 10.0 ** math.floor(math.log10(rough))
    return next((step * power for step in NICE_STEPS if step * power >= rough * (1 - 1e-9)), 10 * power)


def value_axis(low: float, high: float) -> tuple[float, float, float]:
    """(bottom, top, step) of a kW axis that holds 0, `low` and `high` in at most about five round steps,
    so that ~500 kW reads on a 0–600 axis, never 0–1,000."""
    low, high = min(low, 0.0), max(high, 0.0)
    step = _nice_step((high - low) / AXIS_STEPS) if high > low else 1.0
    # the small slack keeps 0.6 / 0.2 = 2.9999999999999996 from adding a step
    bottom = math.floor(low / step + 1e-9) * step
    top = max(math.ceil(high / step - 1e-9) * step, bottom + step)
    return bottom, top, step


def _tick_label(value: float) -> str:
    """'2.5', '600', '0.6' (not 0.6000000000000001)."""
    return f"{round(value, 9):g}"


def _step_segments(values: Sequence[float | None], xs: Sequence[tuple[float, float]], y: object) -> list[str]:
    """Polyline point lists for runs of present values."""
    segments, current = [], []
    for value, (x0, x1) in zip(values, xs, strict=True):
        if value is None:
            if current:
                segments.append(" ".join(current))
            current = []
            continue
        py = y(value)  # type: ignore[operator]
        current += [f"{x0:.1f},{py:.1f}", f"{x1:.1f},{py:.1f}"]
    if current:
        segments.append(" ".join(current))
    return segments


def _time_ticks(intervals: Sequence[CurtailmentInterval], x: Callable[[datetime], float]) -> list[datetime]:
    """About TIME_TICKS interval starts and always the end of the last one (a one-interval chart gets its
    start and end); a start too close to the end label gives way to it."""
    every = max(1, math.ceil(len(intervals) / TIME_TICKS))
    ticks = [i.start for i in intervals[::every]]
    end = intervals[-1].end
    if x(end) - x(ticks[-1]) < TICK_GAP and len(ticks) > 1:
        ticks.pop()
    return [*ticks, end]


def render_chart(intervals: Sequence[CurtailmentInterval], title: str, zone: tzinfo) -> str:
    """An SVG chart of one set of intervals (the whole event or one site), times in `zone`; '' when there are none."""
    if not intervals:
        return ""
    values = [v for i in intervals for v in (i.requested_kw, i.baseline_kw, i.measured_kw, i.achieved_kw) if v is not None]
    bottom, top, step = value_axis(min(values, default=0.0), max(values, default=0.0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    start, end = intervals[0].start, intervals[-1].end
    span = (end - start).total_seconds() or 1.0

    def x(moment: datetime) -> float:
        return LEFT + plot_w * (moment - start).total_seconds() / span

    def y(value: float) -> float:
        return TOP + plot_h * (top - value) / (top - bottom)

    xs = [(x(i.start), x(i.end)) for i in intervals]
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    for k in range(round((top - bottom) / step) + 1):
        value = bottom + k * step
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(value):.1f}" y2="{y(value):.1f}" stroke="#ddd"/>'
            f'<text class="y-tick" x="{LEFT - 6}" y="{y(value) + 4:.1f}" text-anchor="end" font-size="11">'
            f"{_tick_label(value)}</text>"
        )
    parts.append(
        f'<text x="12" y="{TOP + plot_h / 2:.0f}" font-size="11" transform="rotate(-90 12 {TOP + plot_h / 2:.0f})">kW</text>'
    )
    for interval, (x0, x1) in zip(intervals, xs, strict=True):
        if interval.achieved_kw is not None:
            y0, y1 = sorted((y(0.0), y(interval.achieved_kw)))
            width = max(1.0, (x1 - x0) * 0.6)
            when = f"{local_time(interval.start, zone, CLOCK)} ({utc_time(interval.start, CLOCK)})"
            parts.append(
                f'<rect class="achieved" x="{x0 + (x1 - x0 - width) / 2:.1f}" y="{y0:.1f}" width="{width:.1f}" '
                f'height="{max(0.5, y1 - y0):.1f}" fill="{ACHIEVED_COLOUR}" opacity="0.6">'
                f"<title>{when} achieved {kw(interval.achieved_kw)} kW</title></rect>"
            )
    for attr, label, colour in SERIES:
        for points in _step_segments([getattr(i, attr) for i in intervals], xs, y):
            parts.append(
                f'<polyline class="{attr}" fill="none" stroke="{colour}" stroke-width="2" points="{points}">'
                f"<title>{label}</title></polyline>"
            )
    for moment in _time_ticks(intervals, x):
        parts.append(
            f'<line x1="{x(moment):.1f}" x2="{x(moment):.1f}" y1="{HEIGHT - BOTTOM}" y2="{HEIGHT - BOTTOM + 4}" stroke="#888"/>'
            f'<text class="x-tick" x="{x(moment):.1f}" y="{HEIGHT - BOTTOM + 16}" font-size="11" text-anchor="middle">'
            f"{moment.astimezone(zone):%H:%M}<title>{utc_time(moment, CLOCK)}</title></text>"
        )
    legend = [*((label, colour) for _, label, colour in SERIES), ("achieved", ACHIEVED_COLOUR)]
    for n, (label, colour) in enumerate(legend):
        lx = LEFT + n * 150
        parts.append(
            f'<rect x="{lx}" y="{HEIGHT - 16}" width="12" height="8" fill="{colour}"/>'
            f'<text x="{lx + 16}" y="{HEIGHT - 8}" font-size="11">{label}</text>'
        )
    parts.append(
        f'<text class="zone" x="{WIDTH - RIGHT}" y="{HEIGHT - 8}" font-size="11" text-anchor="end">'
        f"times {zone_abbreviation(start, zone)} ({utc_offset(start, zone)})</text>"
    )
    parts.append("</svg>")
    return "".join(parts)


def interval_rows(intervals: Sequence[CurtailmentInterval]) -> list[dict[str, object]]:
    """The chart's numbers as table rows, kW to two decimals (the same values the chart draws); the
    templates show `start` and `end` in the UI's time zone."""
    return [
        {
            "start": i.start,
            "end": i.end,
            "requested": kw(i.requested_kw),
            "baseline": kw(i.baseline_kw),
            "measured": kw(i.measured_kw),
            "achieved": kw(i.achieved_kw),
            "quality": i.quality,
            "claimed": kw(i.ven_baseline_kw),
            "planned": kw(i.planned_kw),
        }
        for i in intervals
    ]

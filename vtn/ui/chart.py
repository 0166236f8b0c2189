"""The curtailment chart of an event as inline SVG — a pure function of `EventCurtailment` data.

Requested limit, baseline and measured load are step lines (one value per interval), achieved
curtailment is a bar per interval. A missing value breaks its line rather than being invented.
No script and no external resource: the page renders the same with no network.
"""

from collections.abc import Sequence
from datetime import datetime
from html import escape

from vtn.curtailment_query import CurtailmentInterval

WIDTH, HEIGHT = 760, 280
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 16, 44
SERIES = (
    ("requested_kw", "requested reduction", "#d62728"),
    ("baseline_kw", "baseline", "#7f7f7f"),
    ("measured_kw", "measured", "#1f77b4"),
)
ACHIEVED_COLOUR = "#2ca02c"


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def _nice_max(value: float) -> float:
    """A round upper bound for the axis (1, 2, 5 × 10^n)."""
    if value <= 0:
        return 1.0
    scale = 10 ** len(str(int(value)))
    for step in (0.1, 0.2, 0.25, 0.5, 1.0):
        if value <= step * scale:
            return step * scale
    return scale * 1.0


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


def render_chart(intervals: Sequence[CurtailmentInterval], title: str) -> str:
    """An SVG chart of one set of intervals (the whole event or one site); '' when there are none."""
    if not intervals:
        return ""
    values = [v for i in intervals for v in (i.requested_kw, i.baseline_kw, i.measured_kw, i.achieved_kw) if v is not None]
    top = _nice_max(max([0.0, *values]))
    bottom = -_nice_max(-min(values)) if values and min(values) < 0 else 0.0
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
    for k in range(5):
        value = bottom + (top - bottom) * k / 4
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(value):.1f}" y2="{y(value):.1f}" stroke="#ddd"/>'
            f'<text x="{LEFT - 6}" y="{y(value) + 4:.1f}" text-anchor="end" font-size="11">{value:g}</text>'
        )
    parts.append(
        f'<text x="12" y="{TOP + plot_h / 2:.0f}" font-size="11" transform="rotate(-90 12 {TOP + plot_h / 2:.0f})">kW</text>'
    )
    for interval, (x0, x1) in zip(intervals, xs, strict=True):
        if interval.achieved_kw is not None:
            y0, y1 = sorted((y(0.0), y(interval.achieved_kw)))
            width = max(1.0, (x1 - x0) * 0.6)
            parts.append(
                f'<rect class="achieved" x="{x0 + (x1 - x0 - width) / 2:.1f}" y="{y0:.1f}" width="{width:.1f}" '
                f'height="{max(0.5, y1 - y0):.1f}" fill="{ACHIEVED_COLOUR}" opacity="0.6">'
                f"<title>{interval.start:%H:%M} achieved {_fmt(interval.achieved_kw)} kW</title></rect>"
            )
    for attr, label, colour in SERIES:
        for points in _step_segments([getattr(i, attr) for i in intervals], xs, y):
            parts.append(
                f'<polyline class="{attr}" fill="none" stroke="{colour}" stroke-width="2" points="{points}">'
                f"<title>{label}</title></polyline>"
            )
    label_every = max(1, len(intervals) // 8)
    for n, interval in enumerate(intervals):
        if n % label_every == 0:
            parts.append(
                f'<text x="{xs[n][0]:.1f}" y="{HEIGHT - BOTTOM + 16}" font-size="11" text-anchor="middle">'
                f"{interval.start:%H:%M}</text>"
            )
    legend = [*((label, colour) for _, label, colour in SERIES), ("achieved", ACHIEVED_COLOUR)]
    for n, (label, colour) in enumerate(legend):
        lx = LEFT + n * 150
        parts.append(
            f'<rect x="{lx}" y="{HEIGHT - 16}" width="12" height="8" fill="{colour}"/>'
            f'<text x="{lx + 16}" y="{HEIGHT - 8}" font-size="11">{label}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def interval_rows(intervals: Sequence[CurtailmentInterval]) -> list[dict[str, str]]:
    """The chart's numbers as table rows (the same values the chart draws, formatted once)."""
    return [
        {
            "start": f"{i.start:%Y-%m-%d %H:%M}",
            "end": f"{i.end:%H:%M}",
            "requested": _fmt(i.requested_kw),
            "baseline": _fmt(i.baseline_kw),
            "measured": _fmt(i.measured_kw),
            "achieved": _fmt(i.achieved_kw),
            "quality": i.quality,
        }
        for i in intervals
    ]

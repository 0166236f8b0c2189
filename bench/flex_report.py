"""Tables for bench/flex_bench.py: end-to-end latency per case against the targets, where the time
goes (phases between the timestamps of bench/flex_timing.py), and the per-site distribution."""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass

from flex_timing import SiteTiming

#: phase name → seconds for one site (None when the phase did not happen, e.g. no trigger for PV)
Phase = Callable[[SiteTiming], float | None]


def _diff(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else b - a


def _job_mid(t: SiteTiming) -> float | None:
    """When the job started to count as 'solving': its RQ start, not before the trigger POST returned."""
    started = t.rq.get("started")
    return None if started is None or t.trigger is None else max(started, t.trigger[1])


PHASES: list[tuple[str, Phase]] = [
    ("poll wait + delivery", lambda t: _diff(t.created, t.on_event)),
    ("VEN → _apply", lambda t: _diff(t.on_event, t.apply_start)),
    ("post DSO sensor data", lambda t: _diff(t.apply_start, t.trigger[0] if t.trigger else t.ready)),
    ("trigger POST", lambda t: _diff(*t.trigger) if t.trigger else None),
    ("job queued (one worker)", lambda t: _diff(t.trigger[1] if t.trigger else None, _job_mid(t))),
    ("job solving", lambda t: _diff(_job_mid(t), t.rq.get("ended"))),
    ("client notices job done", lambda t: _diff(t.rq.get("ended"), t.job_wait_end)),
    ("read schedule back", lambda t: _diff(t.job_wait_end, t.ready) if t.trigger else None),
]
EXTRA: list[tuple[str, Phase]] = [
    ("= total (ready)", lambda t: t.total),
    ("  job run in worker (RQ)", lambda t: _diff(t.rq.get("started"), t.rq.get("ended"))),
    ("  schedule in FM (job ended)", lambda t: _diff(t.created, t.rq.get("ended"))),
    ("  then post aggregate", lambda t: _diff(t.ready, t.apply_end)),
    ("  then bench confirms limit", lambda t: _diff(t.ready, t.confirmed)),
    ("  VEN busy in on_event", lambda t: _diff(t.on_event, t.apply_end)),
]


@dataclass
class Case:
    """One measured case: its timings and the target its total is compared with (seconds)."""

    name: str
    timings: list[SiteTiming]
    target_s: float
    concurrent: bool = False  # one event for all these sites at once (else one-site rounds in turn)


def _stats(values: list[float]) -> tuple[str, str]:
    if not values:
        return "-", "-"
    return f"{statistics.median(values):.2f}", f"{max(values):.2f}"


def _values(timings: list[SiteTiming], phase: Phase) -> list[float]:
    return [v for v in (phase(t) for t in timings) if v is not None]


def _table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = "  ".join("-" * w for w in widths)
    fmt = [f"{h:<{w}}" if i == 0 else f"{h:>{w}}" for i, (h, w) in enumerate(zip(header, widths, strict=True))]
    out = ["  ".join(fmt), line]
    for row in rows:
        out.append("  ".join(f"{c:<{w}}" if i == 0 else f"{c:>{w}}" for i, (c, w) in enumerate(zip(row, widths, strict=True))))
    return "\n".join(out)


def summary(cases: list[Case], poll_s: float) -> str:
    """The headline: median and max create→ready per case, against its target."""
    rows = []
    for case in cases:
        done = [t.total for t in case.timings if t.total is not None]
        median, worst = _stats(done)
        missing = len(case.timings) - len(done)
        verdict = "-" if not done else ("yes" if max(done) <= case.target_s and not missing else "NO")
        in_fm = _stats(_values(case.timings, EXTRA[2][1]))
        rows.append(
            [case.name, f"{len(done)}/{len(case.timings)}", median, worst, in_fm[0], in_fm[1], f"{case.target_s:g}", verdict]
        )
    header = ["case", "ready", "median s", "max s", "in-FM med", "in-FM max", "target s", "met"]
    note = (
        f"poll interval {poll_s:g} s; 'ready' = FlexMeasuresHooks read the schedule back (PV: limits posted, "
        "nothing to schedule); 'in-FM' = the RQ job ended (schedule stored in FlexMeasures)"
    )
    return _table(header, rows) + "\n" + note


def phases(cases: list[Case]) -> str:
    """Median and max of each phase, per case (phases add up to the total)."""
    header = ["phase (s)"]
    for case in cases:
        header += [f"{case.name} med", "max"]
    rows = []
    for name, phase in PHASES + EXTRA:
        row = [name]
        for case in cases:
            row += list(_stats(_values(case.timings, phase)))
        rows.append(row)
    return _table(header, rows)


def per_site(timings: list[SiteTiming]) -> str:
    """One line per site, in the order they became ready."""
    header = ["site", "kind", "total", "poll", "post", "trigger", "queued", "solve", "notice", "read", "polls", "confirm"]
    rows = []
    for t in sorted(timings, key=lambda t: (t.total is None, t.total or 0.0)):
        cells = [p(t) for _, p in PHASES]
        fmt = [f"{c:.2f}" if c is not None else "-" for c in cells]
        total = f"{t.total:.2f}" if t.total is not None else "NOT READY"
        note = t.confirm_note or ("ok" if t.confirmed else "-")
        if t.job_failed:
            note = f"job failed: {t.job_failed[:40]}"
        rows.append([t.site, t.kind, total, fmt[0], fmt[2], fmt[3], fmt[4], fmt[5], fmt[6], fmt[7], str(t.status_polls), note])
    return _table(header, rows)


def worker_load(timings: list[SiteTiming]) -> str:
    """How busy the single RQ worker was: jobs, span from first start to last end, summed run time."""
    runs = [(t.rq["started"], t.rq["ended"]) for t in timings if t.rq.get("started") and t.rq.get("ended")]
    if not runs:
        return "RQ worker: no job timestamps"
    span = max(e for _, e in runs) - min(s for s, _ in runs)
    busy = sum(e - s for s, e in runs)  # type: ignore[operator]
    return (
        f"RQ worker (one, 'scheduling' queue): {len(runs)} jobs, first start → last end {span:.1f} s, "
        f"summed run time {busy:.1f} s ({busy / span:.0%} busy; the rest is dequeue/fork/idle between jobs)"
        if span > 0
        else f"RQ worker: {len(runs)} job(s), run time {busy:.2f} s"
    )


def histogram(timings: list[SiteTiming], width_s: float = 10.0) -> str:
    """How many sites were ready in each `width_s` bucket after the event's creation."""
    done = sorted(t.total for t in timings if t.total is not None)
    if not done:
        return "no site ready"
    lines, edge = [], width_s
    while done and edge - width_s <= done[-1]:
        n = sum(1 for v in done if edge - width_s < v <= edge or (edge == width_s and v <= 0))
        lines.append(f"  {edge - width_s:5.0f}-{edge:<4.0f} s {n:3d} {'#' * n}")
        edge += width_s
    return "\n".join(lines)

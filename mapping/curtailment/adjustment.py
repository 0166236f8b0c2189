"""The day-of adjustment of a baseline: the event day's own level just before the notice corrects it. Pure.

A baseline built from other days (x-of-y, a control group) misses what is special about the event
day (heat, a holiday week). The adjustment compares, over a window before the notice, what the site
drew with what the baseline says for those same intervals:

* additive — baseline + (actual − baseline) over the window (PJM's Symmetric Additive Adjustment);
* multiplicative — baseline × actual / baseline over the window (NYISO's and CAISO's day-of ratio).

Symmetric: up or down. `cap` bounds it: ±cap × the window's baseline (additive) or a ratio within
[1 − cap, 1 + cap] (multiplicative); None leaves it uncapped. The window ends `gap_minutes` before the
interval holding the notice (`reference_end`), so nothing the site did once told — pre-charging,
pre-cooling — can lift it. No pair of values in the window (or, multiplicative, no load to scale):
the baseline stays unadjusted and is flagged `unadjusted`.
"""

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from mapping.curtailment._common import (
    Baseline,
    CurtailmentRefused,
    Flag,
    Measured,
    inherited_flags,
    reference_end,
    valued,
    window_before,
)

NONE, ADDITIVE, MULTIPLICATIVE = "none", "additive", "multiplicative"
KINDS = (NONE, ADDITIVE, MULTIPLICATIVE)


@dataclass(frozen=True)
class Adjustment:
    """How a program adjusts its baseline to the event day (checked when built)."""

    kind: str = NONE
    minutes: int = 120  # the window's length
    gap_minutes: int = 60  # between the window's end and the interval holding the notice
    cap: float | None = 0.2  # the largest correction, as a share of the window's baseline; None: uncapped

    def __post_init__(self) -> None:
        """Refuses an adjustment no baseline can apply."""
        if self.kind not in KINDS:
            raise CurtailmentRefused("adjustment", f"{self.kind!r} is not one of {', '.join(KINDS)}")
        if self.minutes <= 0 or self.minutes % 15:
            raise CurtailmentRefused("adjustment_minutes", f"{self.minutes} must be a positive multiple of 15")
        if self.gap_minutes < 0 or self.gap_minutes % 15:
            raise CurtailmentRefused("adjustment_gap_minutes", f"{self.gap_minutes} must be a multiple of 15, 0 or more")
        if self.cap is not None and not (math.isfinite(self.cap) and 0 <= self.cap):
            raise CurtailmentRefused("adjustment_cap", f"{self.cap!r} must be a share of 0 or more (0.2 = ±20 %)")

    @property
    def active(self) -> bool:
        """Whether anything is adjusted."""
        return self.kind != NONE

    def window(self, event_start: datetime, notified: datetime | None) -> tuple[datetime, ...]:
        """The starts of the event day's intervals the adjustment compares, oldest first."""
        return window_before(reference_end(event_start, notified) - timedelta(minutes=self.gap_minutes), self.minutes)

    def describe(self) -> str:
        """The adjustment in words, for every place that shows a baseline's method."""
        if not self.active:
            return "no day-of adjustment"
        cap = "uncapped" if self.cap is None else f"capped at ±{self.cap:.0%}"
        return f"{self.kind} day-of adjustment over {self.minutes} min ending {self.gap_minutes} min before the notice, {cap}"


#: no day-of adjustment
UNADJUSTED = Adjustment()
#: the control group's default: additive (a difference in differences), uncapped
DIFFERENCE = Adjustment(ADDITIVE, cap=None)


def _limit(value: float, low: float, high: float) -> float:
    return min(max(value, low), high)


def adjust(
    baselines: Sequence[Baseline],
    window_baseline: Mapping[datetime, float],
    actual: Mapping[datetime, Measured],
    adjustment: Adjustment,
    window: Sequence[datetime],
) -> tuple[Baseline, ...]:
    """`baselines` corrected by the event day's level over `window`.

    `window_baseline` is the unadjusted baseline at the window's intervals (the same days or sites the
    event's baseline came from); `actual` the event day's measured intervals.
    """
    if not adjustment.active:
        return tuple(baselines)
    used = [(kw, m) for kw, m in valued(dict(actual), window) if m.start in window_baseline]
    if not used:
        return _unadjusted(baselines)
    base = math.fsum(window_baseline[m.start] for _, m in used) / len(used)
    seen = math.fsum(kw for kw, _ in used) / len(used)
    if adjustment.kind == MULTIPLICATIVE and base <= 0:
        return _unadjusted(baselines)  # no load to scale (export, or nothing drawn)
    cap = math.inf if adjustment.cap is None else adjustment.cap
    delta = _limit(seen - base, -cap * abs(base), cap * abs(base))
    factor = _limit(seen / base, 1 - cap, 1 + cap) if adjustment.kind == MULTIPLICATIVE else 1.0

    def corrected(kw: float) -> float:
        return kw * factor if adjustment.kind == MULTIPLICATIVE else kw + delta

    flags = inherited_flags(used)
    if len(used) < len(window):
        flags.add(Flag.INSUFFICIENT_HISTORY)
    starts = tuple(m.start for _, m in used)
    return tuple(
        b if b.kw is None else replace(b, kw=corrected(b.kw), unadjusted_kw=b.kw, flags=b.flags | flags, used=b.used + starts)
        for b in baselines
    )


def _unadjusted(baselines: Sequence[Baseline]) -> tuple[Baseline, ...]:
    return tuple(replace(b, unadjusted_kw=b.kw, flags=b.flags | {Flag.UNADJUSTED}) for b in baselines)

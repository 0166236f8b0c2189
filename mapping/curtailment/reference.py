"""The reference-window baselines: a level measured before (and after) the event, flat over it. Pure.

* `rectangle` — the mean of a window that ends where the site was told (or at the event's first
  interval), less a neutralisation gap: the "rectangle" reference curve of RTE's NEBEF/NEBCO rules.
* `rectangle_double` — the mean of the level before and the level after the event, each window
  kept clear of the event by the neutralisation gap (RTE's "rectangle à double référence"): a load
  that drifts over the event is met half-way, and a rebound after the end is not in it.
* meter-before/meter-after (NAESB WEQ-015) is `rectangle` on a device's own meter with a short
  window: the device's demand just before the deployment is what it would have kept drawing.

A window is measured time: each history interval is weighted by its coverage. Fewer valued
intervals than the window holds → `insufficient_history`; none → None and `missing`.
"""

from collections.abc import Iterable
from datetime import datetime, timedelta

from mapping.curtailment._common import (
    Baseline,
    CurtailmentRefused,
    Flag,
    Measured,
    bounded_mean,
    event_slots,
    index_by_start,
    inherited_flags,
    reference_end,
    valued,
    window_before,
)
from mapping.grid import QUARTER, ceil_slot


def check_minutes(minutes: int, what: str = "minutes", allow_zero: bool = False) -> None:
    """Refuses a window length that is not a whole number of intervals."""
    if minutes < 0 or (minutes == 0 and not allow_zero) or minutes % 15:
        raise CurtailmentRefused(what, f"{minutes} must be a {'' if allow_zero else 'positive '}multiple of 15 (whole intervals)")


def before_window(event_start: datetime, minutes: int, neutralisation: int, notified: datetime | None) -> tuple[datetime, ...]:
    """The starts of the reference window before the event: `minutes` ending `neutralisation` minutes before the notice."""
    return window_before(reference_end(event_start, notified) - timedelta(minutes=neutralisation), minutes)


def after_window(event_end: datetime, minutes: int, neutralisation: int) -> tuple[datetime, ...]:
    """The starts of the reference window after the event: `minutes` from `neutralisation` minutes after its last interval."""
    first = ceil_slot(event_end) + timedelta(minutes=neutralisation)
    return tuple(first + QUARTER * i for i in range(minutes // 15))


_Level = tuple[float | None, set[Flag], tuple[datetime, ...]]


def _level(indexed: dict[datetime, Measured], window: tuple[datetime, ...]) -> _Level:
    used = valued(indexed, window)
    flags = inherited_flags(used)
    if len(used) < len(window):
        flags.add(Flag.INSUFFICIENT_HISTORY)
    kw = bounded_mean([kw for kw, _ in used], [m.coverage for _, m in used]) if used else None
    return kw, flags, tuple(m.start for _, m in used)


def _flat(slots: tuple[datetime, ...], kw: float | None, flags: set[Flag], used: tuple[datetime, ...]) -> tuple[Baseline, ...]:
    if kw is None:
        flags.add(Flag.MISSING)
    return tuple(Baseline(slot, kw, frozenset(flags), used) for slot in slots)


def _prepared(
    event_start: datetime, event_end: datetime, history: Iterable[Measured], minutes: int, neutralisation: int
) -> tuple[tuple[datetime, ...], dict[datetime, Measured]]:
    """The event's slots and the history by start, once the window's settings are checked."""
    check_minutes(minutes)
    check_minutes(neutralisation, "neutralisation_minutes", allow_zero=True)
    return event_slots(event_start, event_end), index_by_start(history, "history")


def rectangle(
    event_start: datetime,
    event_end: datetime,
    history: Iterable[Measured],
    minutes: int = 60,
    *,
    notified: datetime | None = None,
    neutralisation: int = 0,
) -> tuple[Baseline, ...]:
    """Flat baseline: the mean power over the `minutes` that end `neutralisation` minutes before the notice.

    Without `notified`, the window ends at the interval holding the event start (the notice is then taken to
    be the start). An event notified at 17:07 for 18:00 with `minutes=60` reads 16:00–17:00: what the site
    did after it was told (pre-charging, say) never lifts its own baseline.
    """
    slots, indexed = _prepared(event_start, event_end, history, minutes, neutralisation)
    kw, flags, used = _level(indexed, before_window(event_start, minutes, neutralisation, notified))
    return _flat(slots, kw, flags, used)


def rectangle_double(
    event_start: datetime,
    event_end: datetime,
    history: Iterable[Measured],
    minutes: int = 60,
    *,
    notified: datetime | None = None,
    neutralisation: int = 0,
) -> tuple[Baseline, ...]:
    """Flat baseline: the mean of the level before (as `rectangle`) and the level over the `minutes` that start
    `neutralisation` minutes after the event's last interval.

    Computable only once the after-window is measured (settlement, not live). One side without any value:
    the other alone, `insufficient_history`.
    """
    slots, indexed = _prepared(event_start, event_end, history, minutes, neutralisation)
    before = _level(indexed, before_window(event_start, minutes, neutralisation, notified))
    after = _level(indexed, after_window(event_end, minutes, neutralisation))
    levels = [level for level, _, _ in (before, after) if level is not None]
    flags = before[1] | after[1]
    kw = sum(levels) / len(levels) if levels else None
    if len(levels) == 1:
        flags.add(Flag.INSUFFICIENT_HISTORY)
    return _flat(slots, kw, flags, before[2] + after[2])

"""The control-group baseline of diffuse residential programs: what matched sites that were not called drew. Pure.

Households are too noisy one by one for a day-based baseline; the program calls some of them and
leaves matched ones alone. Per event interval the called site's baseline is the mean of the control
sites' measured load at that interval (each site that has a value), corrected by the event day's
difference between the called site and the controls before the notice (`adjustment`: additive by
default, as in a difference-in-differences estimate). Fewer than half the controls with a value →
`insufficient_history`; none → None and `missing`.
"""

from collections.abc import Iterable, Sequence
from datetime import datetime

from mapping.curtailment._common import (
    Baseline,
    CurtailmentRefused,
    Flag,
    Measured,
    bounded_mean,
    event_slots,
    index_by_start,
    inherited_flags,
    valued,
)
from mapping.curtailment.adjustment import DIFFERENCE, Adjustment, adjust


def _control_mean(slot: datetime, controls: Sequence[dict[datetime, Measured]]) -> Baseline:
    used = [pair for control in controls for pair in valued(control, (slot,))]
    flags = inherited_flags(used)
    if 2 * len(used) < len(controls):
        flags.add(Flag.INSUFFICIENT_HISTORY)
    kw = bounded_mean([kw for kw, _ in used], [1.0] * len(used)) if used else None
    if kw is None:
        flags.add(Flag.MISSING)
    return Baseline(slot, kw, frozenset(flags), ())


def control_group(
    event_start: datetime,
    event_end: datetime,
    history: Iterable[Measured],
    controls: Sequence[Iterable[Measured]],
    *,
    notified: datetime | None = None,
    adjustment: Adjustment = DIFFERENCE,
) -> tuple[Baseline, ...]:
    """Per event interval, the controls' mean load, adjusted by the called site's own level before the notice.

    `history` is the called site's measured intervals over the adjustment window; `controls` one series per
    control site, covering the window and the event.
    """
    if not controls:
        raise CurtailmentRefused("controls", "the control-group baseline needs at least one site that was not called")
    indexed = [index_by_start(control, f"control {n}") for n, control in enumerate(controls, 1)]
    baselines = tuple(_control_mean(slot, indexed) for slot in event_slots(event_start, event_end))
    if not adjustment.active:
        return baselines
    window = adjustment.window(event_start, notified)
    window_baseline = {b.start: b.kw for b in (_control_mean(slot, indexed) for slot in window) if b.kw is not None}
    return adjust(baselines, window_baseline, index_by_start(history, "history"), adjustment, window)

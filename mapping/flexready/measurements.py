"""Telemetry on the clock: a site's power readings (kW) as the mean of each 15-minute slot.

The mean is `mapping.curtailment.resample`'s, the VEN's: time-weighted (each reading stands for
the power until the next one, at most `max_hold`), so the aggregator API shows for a slot the
same mean the site's VEN reports and forwards to FlexMeasures from the same readings — a plain
average would over-weight a burst of readings (mapping/curtailment/resampling.py says why).
"""

import math
from dataclasses import dataclass
from datetime import datetime

from mapping.curtailment import DEFAULT_MAX_HOLD, Sample, resample
from mapping.grid import QUARTER, is_on_grid
from mapping.refusal import Refused


@dataclass(frozen=True)
class SlotMean:
    """The mean of the readings inside one slot (None when there was none) and how many there were."""

    start: datetime
    mean_kw: float | None
    samples: int

    @property
    def end(self) -> datetime:
        """When the slot ends."""
        return self.start + QUARTER


def slot_means(readings: list[tuple[datetime, float]], start: datetime, slots: int) -> list[SlotMean]:
    """Per slot from `start` (on the grid), the time-weighted mean of the readings taken in [slot start,
    slot end); readings outside, and values that are not finite numbers, are ignored. A reading stands
    for at most DEFAULT_MAX_HOLD (the VEN's default meter period, `[curtailment] max_hold`)."""
    if not is_on_grid(start):
        raise Refused("start", f"{start.isoformat()} is not on the 15-minute grid (:00, :15, :30, :45)")
    if slots <= 0:
        return []
    samples = [Sample(at, kw) for at, kw in readings if math.isfinite(kw)]
    measured = resample(samples, start, start + slots * QUARTER, max_hold=DEFAULT_MAX_HOLD)
    return [SlotMean(m.start, m.kw, m.samples) for m in measured]

"""Telemetry on the clock: a site's power readings (kW) averaged over each 15-minute slot."""

import math
from dataclasses import dataclass
from datetime import datetime

from mapping.flexready.clock import QUARTER


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
    """Per slot from `start`, the mean of the readings taken in [slot start, slot end); readings outside are ignored."""
    buckets: list[list[float]] = [[] for _ in range(slots)]
    for at, kw in readings:
        index = int((at - start) // QUARTER) if at >= start else -1
        if 0 <= index < slots and math.isfinite(kw):
            buckets[index].append(kw)
    return [
        SlotMean(start + n * QUARTER, math.fsum(values) / len(values) if values else None, len(values))
        for n, values in enumerate(buckets)
    ]

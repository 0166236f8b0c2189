"""An "up" order's figures: what was asked is an increase of consumption over the baseline, so what was
delivered is consumption above the baseline (measured − baseline), not the reduction a curtailment
report computes (which finds nothing requested). Pure.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

NOTHING_REQUESTED = "nothing_requested"


@dataclass(frozen=True)
class UpInterval:
    """One interval of an up order: the increase asked and delivered (kW, positive = more consumption)."""

    start: datetime
    requested_kw: float | None
    delivered_kw: float | None
    quality: str


def up_intervals(
    rows: Sequence[tuple[datetime, float | None, float | None, str]], asked_kw: Mapping[datetime, float]
) -> list[UpInterval]:
    """Per (start, baseline kW, measured kW, quality) row, the increase asked (`asked_kw` by interval start;
    none asked: None) and delivered (measured − baseline, None when either is unknown). The curtailment
    quality's `nothing_requested` flag is dropped where an increase was asked (it was about a reduction)."""
    result = []
    for start, baseline, measured, quality in rows:
        requested = asked_kw.get(start)
        delivered = measured - baseline if baseline is not None and measured is not None else None
        flags = [f for f in quality.split("+") if f and not (f == NOTHING_REQUESTED and requested)]
        result.append(UpInterval(start, requested, delivered, "+".join(flags) or "good"))
    return result


def up_ratio(intervals: Sequence[UpInterval]) -> float | None:
    """Delivered over requested energy, over the intervals where both are known (None: none, or nothing asked)."""
    pairs = [(i.requested_kw, i.delivered_kw) for i in intervals if i.requested_kw is not None and i.delivered_kw is not None]
    asked = sum(r for r, _ in pairs)
    return sum(d for _, d in pairs) / asked if pairs and asked > 0 else None

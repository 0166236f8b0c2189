"""The reduction an event asked of a site, per 15-minute interval, seen from the VTN. Pure.

The VTN knows the event exactly; it reads the import limit each interval asks for with the signal
mapping the VENs use (`mapping.flex.constraints`, the default program rules), against the baseline the
VEN reported for that interval: absolute limits (x-IMPORT_CAPACITY_LIMIT, LOAD_DISPATCH setpoint,
LOAD_CONTROL x-loadControlSetpoint), changes relative to the baseline (LOAD_DISPATCH delta and
multiplier, x-loadControlPercentOffset, x-loadControlCapacity) and SIMPLE levels (a share of the
baseline shed); the contracted power, when the sites file gives it, caps the limits. Intervals without
a baseline have no requested value either.
"""

import math
from collections.abc import Mapping
from datetime import datetime

from mapping.curtailment.achieved import requested_from_limit
from mapping.flex.combine import combine
from mapping.flex.constraints import IMPORT_CEILING, IMPORT_LIMIT, SignalRefused, SiteFacts, event_constraints
from mapping.grid import floor_slot
from mapping.oadr import model as m

#: stands for the contracted power the VTN does not know: NaN flows into every value computed from it
_UNKNOWN_CONTRACT = math.nan


def import_limit_at(event: m.Event, slot: datetime, baseline_kw: float, contracted_kw: float | None = None) -> float | None:
    """The event's import limit (kW) over the interval starting at `slot`, None when it asks none or it is unknown."""
    contract = contracted_kw if contracted_kw is not None else _UNKNOWN_CONTRACT
    try:
        constraints = event_constraints(event, SiteFacts(contracted_kw=contract, baseline_kw=baseline_kw))
    except SignalRefused:
        return None
    combined = combine(constraints)
    limits = [
        segment.value
        for kind in (IMPORT_LIMIT, IMPORT_CEILING)
        for segment in combined.get(kind, [])
        if segment.start <= slot < segment.end and math.isfinite(segment.value)
    ]
    return min(limits) if limits else None


def requested_by_slot(
    event: m.Event, baselines: Mapping[datetime, float | None], contracted_kw: float | None = None
) -> dict[datetime, float | None]:
    """Requested reduction (kW, positive = less consumption) per interval start, from each interval's baseline."""
    result: dict[datetime, float | None] = {}
    for slot, baseline_kw in baselines.items():
        if baseline_kw is None or floor_slot(slot) != slot:
            result[slot] = None
            continue
        result[slot] = requested_from_limit(baseline_kw, import_limit_at(event, slot, baseline_kw, contracted_kw))
    return result

"""The reduction an event asked of a site, per 15-minute interval, seen from the VTN. Pure.

The VTN knows the event exactly but not the site's contract: it reads the signals that ask for an
absolute import limit (x-IMPORT_CAPACITY_LIMIT, LOAD_DISPATCH setpoint, LOAD_CONTROL
x-loadControlSetpoint) or a change relative to the site's baseline (LOAD_DISPATCH delta and
multiplier, LOAD_CONTROL x-loadControlPercentOffset), with the baseline the VEN reported for that
interval. Signals that need the contracted power (SIMPLE levels, x-loadControlCapacity, level
offsets) have no requested value here (None), as have intervals without a baseline.
"""

import math
from collections.abc import Mapping
from datetime import datetime

from mapping.curtailment.achieved import requested_from_limit
from mapping.flex.combine import combine, floor_slot
from mapping.flex.constraints import IMPORT_LIMIT, SignalRefused, SiteFacts, event_constraints
from mapping.oadr import model as m

#: stands for the contracted power the VTN does not know: NaN flows into every value computed from it
_UNKNOWN_CONTRACT = math.nan


def import_limit_at(event: m.Event, slot: datetime, baseline_kw: float) -> float | None:
    """The event's import limit (kW) over the interval starting at `slot`, None when it asks none or it is unknown."""
    try:
        constraints = event_constraints(event, SiteFacts(contracted_kw=_UNKNOWN_CONTRACT, baseline_kw=baseline_kw))
    except SignalRefused:
        return None
    for segment in combine(constraints).get(IMPORT_LIMIT, []):
        if segment.start <= slot < segment.end:
            return segment.value if math.isfinite(segment.value) else None
    return None


def requested_by_slot(event: m.Event, baselines: Mapping[datetime, float | None]) -> dict[datetime, float | None]:
    """Requested reduction (kW, positive = less consumption) per interval start, from each interval's baseline."""
    result: dict[datetime, float | None] = {}
    for slot, baseline_kw in baselines.items():
        if baseline_kw is None or floor_slot(slot) != slot:
            result[slot] = None
            continue
        result[slot] = requested_from_limit(baseline_kw, import_limit_at(event, slot, baseline_kw))
    return result

"""Delivered against requested, per site or in total: the verdict an operator reads first. Pure.

`quality` (mapping.curtailment.Flag) says whether the *data* can be trusted; this module says what
the site *did* with the request, over the intervals that count:

- `no data`: nothing measured (or no baseline) over the event, so nothing can be said;
- `nothing asked`: the event asked this site for no reduction (requested 0 or unknown);
- `export`: the site's mean net power over the event was below −EXPORT_KW (it fed the grid),
  whatever it was asked: an operator must see a house that turned into a generator;
- `under`: delivered below MET_BAND's lower bound of what was requested;
- `met`: within MET_BAND of the request;
- `over`: above MET_BAND's upper bound (a response much larger than asked is a finding too:
  it may be pre-charging or a misread signal, not free flexibility).

Means are energy over the intervals where both the delivery and the request are known; the share
of intervals without data is the caller's to show (coverage), never hidden here.

Notice: a site can only respond once it knows of the event. `notice_shares` gives, per interval, the
share that followed the event's creation (createdDateTime): 1 for an interval that began after it, 0
for one that ended before it, the remainder for the interval it was created in. The caller scales the
request by that share (nothing was asked of the site before it was told), flags the interval
`before_notice`, and leaves intervals with no notice at all out of `verdict`. An event created after
its end is a record of the past (entered for settlement, or by a test): no one was to respond to
it, and its figures are taken as recorded (shares all 1).
"""

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from mapping.curtailment._common import require_aware
from mapping.grid import QUARTER

#: delivered / requested within these bounds counts as met (90 % to 120 %)
MET_BAND = (0.9, 1.2)
#: a mean net power below −EXPORT_KW over the event is export (kW; tolerance for meter noise)
EXPORT_KW = 0.1


class Delivery(StrEnum):
    """What a site (or a total) delivered against what was asked."""

    NO_DATA = "no data"
    NOTHING_ASKED = "nothing asked"
    EXPORT = "export"
    UNDER = "under"
    MET = "met"
    OVER = "over"


@dataclass(frozen=True)
class Verdict:
    """The delivery class and the delivered/requested ratio behind it (None when there is no ratio)."""

    delivery: Delivery
    ratio: float | None


@dataclass(frozen=True)
class IntervalFigures:
    """One interval's requested reduction, achieved reduction and measured net power (kW, None = unknown)."""

    requested_kw: float | None
    achieved_kw: float | None
    measured_kw: float | None


def verdict(intervals: Iterable[IntervalFigures]) -> Verdict:
    """The delivery verdict over `intervals`: the event's intervals that count (those the site had notice of,
    their requests scaled by `notice_shares`)."""
    rows = list(intervals)
    measured = [i.measured_kw for i in rows if i.measured_kw is not None]
    both = [(i.achieved_kw, i.requested_kw) for i in rows if i.achieved_kw is not None and i.requested_kw is not None]
    if not measured or not any(i.achieved_kw is not None for i in rows):
        return Verdict(Delivery.NO_DATA, None)
    requested = math.fsum(r for _, r in both)
    ratio = math.fsum(a for a, _ in both) / requested if both and requested > 0 else None
    if math.fsum(measured) / len(measured) < -EXPORT_KW:
        return Verdict(Delivery.EXPORT, ratio)
    if ratio is None:
        return Verdict(Delivery.NOTHING_ASKED, None)
    low, high = MET_BAND
    if ratio < low:
        return Verdict(Delivery.UNDER, ratio)
    return Verdict(Delivery.MET if ratio <= high else Delivery.OVER, ratio)


def notice_shares(slots: Sequence[datetime], created: datetime, end: datetime) -> tuple[float, ...]:
    """Per 15-minute interval starting at `slots`, the share of it after the event was `created`
    (0..1; all 1 when the event was created at or after its `end`: a record, see the module's notes)."""
    created, end = require_aware(created, "created"), require_aware(end, "end")
    if created >= end:
        return tuple(1.0 for _ in slots)
    return tuple(min(max((require_aware(slot, "slot") + QUARTER - created) / QUARTER, 0.0), 1.0) for slot in slots)

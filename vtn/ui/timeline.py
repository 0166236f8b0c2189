"""An event's timeline from what the store holds: created, modified, delivered, opted, active,
completed or cancelled — pure, sorted by time."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, tzinfo

from mapping.oadr.lifecycle import event_end
from mapping.oadr.model import EventStatus, OptType
from mapping.oadr.timefmt import parse_datetime
from vtn.store.event_log import VenDelivery
from vtn.ui.formatting import local_time


@dataclass(frozen=True)
class Moment:
    """One line of the timeline."""

    at: datetime
    kind: str  # created, modified, cancelled, delivered, optIn, optOut, opt-schedule, active, completed
    text: str


#: past this many VENs, deliveries and answers are summarised (an event for every site of a large fleet)
PER_VEN_LIMIT = 20
#: the last of a summarised group: its time of day (the group's first moment gives the day)
LAST = "%H:%M:%S"


def _summarised(deliveries: list[VenDelivery], zone: tzinfo) -> list[Moment]:
    """One 'delivered' moment (first delivery) and one per opt type (first answer), with counts."""
    moments = []
    delivered = sorted(d.first_delivered for d in deliveries if d.first_delivered is not None)
    if delivered:
        last = local_time(delivered[-1], zone, LAST)
        moments.append(Moment(delivered[0], "delivered", f"first delivered to {len(delivered)} VENs (the last at {last})"))
    for opt_type in OptType:
        answered = sorted(d.responded_at for d in deliveries if d.opt_type == opt_type and d.responded_at is not None)
        if answered:
            last = local_time(answered[-1], zone, LAST)
            moments.append(Moment(answered[0], opt_type, f"{len(answered)} VENs: {opt_type} (the last at {last})"))
    return moments


def build_timeline(
    dtstart: datetime,
    duration: object,
    revisions: Iterable[tuple[int, str | None, datetime, str]],
    deliveries: Iterable[VenDelivery],
    opts: Iterable[dict[str, object]],
    cancelled: bool,
    now: datetime,
    zone: tzinfo,
) -> list[Moment]:
    """Every moment known for an event, oldest first; 'active'/'completed' only once their time has come.
    Times inside the texts read in `zone` (each moment's own time is the page's to show)."""
    moments: list[Moment] = []
    for number, reason, at, status in revisions:
        if number == 0:
            moments.append(Moment(at, "created", "created (modification 0)"))
        elif status == EventStatus.CANCELLED:
            moments.append(Moment(at, "cancelled", f"cancelled (modification {number}: {reason})"))
        else:
            moments.append(Moment(at, "modified", f"modification {number}: {reason or ''}".rstrip(": ")))
    deliveries = list(deliveries)
    if len(deliveries) > PER_VEN_LIMIT:
        moments += _summarised(deliveries, zone)
    else:
        for d in deliveries:
            who = d.ven_name or d.ven_id
            if d.first_delivered is not None:
                moments.append(Moment(d.first_delivered, "delivered", f"first delivered to {who}"))
            if d.responded_at is not None and d.opt_type:
                moments.append(
                    Moment(d.responded_at, d.opt_type, f"{who}: {d.opt_type} (modification {d.acknowledged_modification})")
                )
    for opt in opts:
        received = opt.get("received_at")
        if isinstance(received, str):
            moments.append(
                Moment(parse_datetime(received), "opt-schedule", f"{opt['ven_id']}: {opt['opt_type']} {opt['opt_id']}")
            )
    if not cancelled:
        end = event_end(dtstart, duration)  # type: ignore[arg-type]
        if dtstart <= now:
            moments.append(Moment(dtstart, "active", "active (window starts)"))
        if end is not None and end <= now:
            moments.append(Moment(end, "completed", "completed (window ends)"))
    return sorted(moments, key=lambda m: m.at)

"""What a new oadrDistributeEvent changes for a VEN, and when an event's callbacks fall due. Pure."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from mapping.oadr import model as m
from mapping.oadr.lifecycle import event_end
from mapping.oadr.model import EventStatus
from ven.store import KnownEvent


@dataclass
class EventChanges:
    """The difference between what the VEN holds and what the VTN now distributes."""

    new: list[m.Event] = field(default_factory=list)
    modified: list[m.Event] = field(default_factory=list)
    cancelled: list[m.Event] = field(default_factory=list)
    status_only: list[m.Event] = field(default_factory=list)
    #: listed with a lower modificationNumber than the VEN holds (out of sequence)
    stale: list[m.Event] = field(default_factory=list)
    unchanged: list[m.Event] = field(default_factory=list)
    vanished: list[KnownEvent] = field(default_factory=list)

    @property
    def nothing_changed(self) -> bool:
        """The distribution lists exactly the events held, as held."""
        return not (self.new or self.modified or self.cancelled or self.status_only or self.stale or self.vanished)

    def unanswered(self, known: Mapping[str, KnownEvent], asked_again: bool = False) -> list[m.Event]:
        """Events already held whose current modification the VTN has no answer for (it must get one).

        asked_again: the VTN says it has none for any of them, whatever the VEN noted (a VTN pushes an
        unchanged distribution again only when an answer it needs did not reach it)."""
        return [
            e
            for e in self.unchanged + self.status_only
            if e.response_required == "always"
            and (asked_again or known[e.event_id].answered_modification != e.modification_number)
        ]


def compare(known: Mapping[str, KnownEvent], incoming: Sequence[m.Event]) -> EventChanges:
    """Classify each distributed event; events no longer listed are 'vanished' (implicit cancellation)."""
    changes = EventChanges()
    for event in incoming:
        held = known.get(event.event_id)
        if event.status == EventStatus.CANCELLED and (held is None or held.event.status != EventStatus.CANCELLED):
            changes.cancelled.append(event)
        elif held is None:
            changes.new.append(event)
        elif event.modification_number > held.event.modification_number:
            changes.modified.append(event)
        elif event.modification_number < held.event.modification_number:
            changes.stale.append(event)
        elif event.status != held.event.status:
            changes.status_only.append(event)
        else:
            changes.unchanged.append(event)
    listed = {e.event_id for e in incoming}
    changes.vanished = [k for event_id, k in known.items() if event_id not in listed]
    return changes


@dataclass(frozen=True)
class Moment:
    """A callback due at `at`: kind is start, interval (with its index) or end."""

    at: datetime
    kind: str
    index: int = 0


def timeline(event: m.Event, start_offset: timedelta) -> list[Moment]:
    """Start, each interval start and end of the event, shifted by the VEN's random start offset."""
    start = event.dtstart + start_offset
    moments = [Moment(start, "start")]
    cursor = start
    intervals = event.signals[0].intervals if event.signals else ()
    for index, interval in enumerate(intervals):
        moments.append(Moment(cursor, "interval", index))
        cursor += interval.duration
    end = event_end(event.dtstart, event.duration)
    if end is not None:
        moments.append(Moment(end + start_offset, "end"))
    return moments


def current_interval(event: m.Event, start_offset: timedelta, now: datetime) -> int | None:
    """Index of the interval in force at `now`, or None outside the event."""
    cursor = event.dtstart + start_offset
    intervals = event.signals[0].intervals if event.signals else ()
    for index, interval in enumerate(intervals):
        if cursor <= now < cursor + interval.duration or (interval.duration == timedelta(0) and now >= cursor):
            return index
        cursor += interval.duration
    return None


def has_ended(event: m.Event, start_offset: timedelta, now: datetime) -> bool:
    """True once the event's (shifted) end has passed."""
    end = event_end(event.dtstart, event.duration)
    return end is not None and now >= end + start_offset

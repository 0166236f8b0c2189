"""The 15-minute grid every part of Cariflex counts in: slots, their boundaries, constant segments. Pure.

A slot is a quarter hour [start, start + 15 min) aligned on the UTC quarter hour (:00, :15, :30,
:45), which is also America/Martinique's (UTC−4, no daylight saving): a local wall-clock quarter
hour and a UTC one are the same slot. Constraints (`mapping.flex.combine`), meter means
(`mapping.curtailment.resample`), DSO signals (`mapping.dso`) and the aggregator API
(`mapping.flexready`) all use these slots, so a value computed in one place lands in the same slot
everywhere else.

Example: 22:07 UTC lies in the slot [22:00, 22:15); the span 22:07–22:31 touches the slots starting
22:00, 22:15 and 22:30 (`slots_between`), and a constraint over it binds all three (`mapping.flex.combine`).
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

#: the length of one slot
QUARTER = timedelta(minutes=15)
#: the site's local time zone; its quarter hours are the UTC ones (UTC−4, no daylight saving)
LOCAL_ZONE = "America/Martinique"
#: any UTC quarter hour: the grid's origin (any one gives the same slots)
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Segment:
    """A constant value over [start, end) (an instant when start == end)."""

    start: datetime
    end: datetime
    value: float

    @property
    def duration(self) -> timedelta:
        """end − start."""
        return self.end - self.start


def floor_slot(moment: datetime, resolution: timedelta = QUARTER) -> datetime:
    """The start of the slot holding `moment` (an aware datetime)."""
    return moment - (moment - _EPOCH) % resolution


def ceil_slot(moment: datetime, resolution: timedelta = QUARTER) -> datetime:
    """The first slot boundary at or after `moment`."""
    floored = floor_slot(moment, resolution)
    return floored if floored == moment else floored + resolution


def is_on_grid(moment: datetime) -> bool:
    """Whether `moment` is a slot boundary."""
    return floor_slot(moment) == moment


def slot_starts(start: datetime, count: int, length: timedelta = QUARTER) -> tuple[datetime, ...]:
    """The starts of `count` consecutive slots of `length` from `start`."""
    return tuple(start + n * length for n in range(count))


def slots_between(start: datetime, end: datetime) -> tuple[datetime, ...]:
    """The starts of the slots [start, end) touches: a span that begins or ends inside a slot owns all of it."""
    first = floor_slot(start)
    return slot_starts(first, max(0, (ceil_slot(end) - first) // QUARTER))

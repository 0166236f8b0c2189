"""The clock: 15-minute slots aligned on the UTC quarter hour (also America/Martinique's, UTC−4)."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from mapping.dso.common import QUARTER, aware, on_grid
from mapping.openadr3.errors import Refused

#: the longest window or series the API takes (one week of quarter hours)
MAX_SLOTS = 7 * 24 * 4
LOCAL_ZONE = "America/Martinique"

__all__ = ["QUARTER", "MAX_SLOTS", "grid_time", "window", "step", "slot_starts", "utc_text", "local_text"]


#: the years the API accepts (keeps every window's arithmetic far from datetime's limits)
YEARS = (2000, 2100)


def grid_time(value: object, field: str) -> datetime:
    """An aware date-time on the 15-minute grid, in UTC (Refused naming `field` otherwise)."""
    moment = on_grid(aware(value, field), field)
    if not YEARS[0] <= moment.year < YEARS[1]:
        raise Refused(field, f"expected a date-time from {YEARS[0]} to {YEARS[1] - 1}")
    return moment


def window(start_value: object, end_value: object, start_field: str = "start", end_field: str = "end") -> tuple[datetime, int]:
    """(start, number of slots) of a window given as two aware date-times on the grid, at most a week."""
    start = grid_time(start_value, start_field)
    end = grid_time(end_value, end_field)
    if end <= start:
        raise Refused(end_field, f"must be after {start_field}")
    slots = int((end - start) / QUARTER)
    if slots > MAX_SLOTS:
        raise Refused(end_field, f"a window of at most {MAX_SLOTS} quarter hours (7 days)")
    return start, slots


def step(value: object, field: str = "step_minutes") -> timedelta:
    """A series step: a whole number of quarter hours, from 15 minutes to a day."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 15 or value > 1440 or value % 15:
        raise Refused(field, "expected 15, 30, 45 … 1440 minutes (a multiple of the 15-minute clock)")
    return timedelta(minutes=value)


def slot_starts(start: datetime, count: int, length: timedelta = QUARTER) -> tuple[datetime, ...]:
    """The starts of `count` consecutive slots of `length` from `start`."""
    return tuple(start + n * length for n in range(count))


def utc_text(moment: datetime) -> str:
    """ISO 8601 in UTC with a `Z` (what the wire carries)."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def local_text(moment: datetime, zone: str = LOCAL_ZONE) -> str:
    """ISO 8601 in the site's local time (what a user interface shows)."""
    return moment.astimezone(ZoneInfo(zone)).isoformat()

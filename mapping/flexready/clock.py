"""The API's clock: date-times on the 15-minute grid (`mapping.grid`), windows and steps, as text.

The slots themselves are `mapping.grid`'s; this module checks what the aggregator API accepts (a
date-time on the grid within the years it takes, a window of at most a week, a step of whole
quarter hours) and writes times as the API shows them.
"""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from mapping.dso.common import aware, on_grid
from mapping.grid import LOCAL_ZONE, QUARTER
from mapping.refusal import Refused

#: the longest window or series the API takes (one week of quarter hours)
MAX_SLOTS = 7 * 24 * 4
#: the years the API accepts (keeps every window's arithmetic far from datetime's limits)
_YEARS = (2000, 2100)

__all__ = ["MAX_SLOTS", "grid_time", "window", "step", "utc_text", "local_text"]


def grid_time(value: object, field: str) -> datetime:
    """An aware date-time on the 15-minute grid, in UTC (Refused naming `field` otherwise)."""
    moment = on_grid(aware(value, field), field)
    if not _YEARS[0] <= moment.year < _YEARS[1]:
        raise Refused(field, f"expected a date-time from {_YEARS[0]} to {_YEARS[1] - 1}")
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


def utc_text(moment: datetime) -> str:
    """ISO 8601 in UTC with a `Z` (what the wire carries)."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def local_text(moment: datetime, zone: str = LOCAL_ZONE) -> str:
    """ISO 8601 in the site's local time (what a user interface shows)."""
    return moment.astimezone(ZoneInfo(zone)).isoformat()

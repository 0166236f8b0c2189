"""Which earlier days are like the event day: public holidays and the similar-day rules of day-based baselines. Pure.

Public holidays come from the `holidays` package (France, with its overseas departments): a
program names its calendar as `FR-972` (Martinique: the national days plus 22 May, abolition of
slavery, and 21 July, Victor Schœlcher day — loi n° 83-550 of 30 June 1983 and décret n° 83-1003
of 23 November 1983), `FR` (mainland France) or `none`. A holiday counts as a weekend day: its load
looks like a Sunday's, not like the weekday it falls on (as PJM, NYISO and CAISO's baselines treat
holidays).
"""

from collections.abc import Collection
from datetime import UTC, date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import holidays

from mapping.curtailment._common import CurtailmentRefused

WEEKDAYS, WEEKENDS, ALL_DAYS, SAME_KIND = "weekdays", "weekends", "all", "same-kind"
DAY_KINDS = (WEEKDAYS, WEEKENDS, ALL_DAYS, SAME_KIND)
MARTINIQUE, MAINLAND, NO_HOLIDAYS = "FR-972", "FR", "none"
CALENDARS = (MARTINIQUE, MAINLAND, NO_HOLIDAYS)
#: how far back the search for similar days goes before it gives up (two months: a season)
DEFAULT_LOOKBACK_DAYS = 60


#: the time zone a calendar's days and wall-clock times are in
_ZONES = {
    MARTINIQUE: ZoneInfo("America/Martinique"),
    MAINLAND: ZoneInfo("Europe/Paris"),
    NO_HOLIDAYS: ZoneInfo("America/Martinique"),
}


def check_calendar(name: str) -> str:
    """`name` if it is a calendar this module knows, else a refusal naming the field `holidays`."""
    if name not in CALENDARS:
        raise CurtailmentRefused("holidays", f"{name!r} is not one of {', '.join(CALENDARS)}")
    return name


@cache
def _holidays_of(calendar: str, year: int) -> frozenset[date]:
    if calendar == NO_HOLIDAYS:
        return frozenset()
    subdivision = "972" if calendar == MARTINIQUE else None
    return frozenset(holidays.France(subdiv=subdivision, years=year))


def is_holiday(day: date, calendar: str = MARTINIQUE) -> bool:
    """Whether `day` is a public holiday in `calendar`."""
    return day in _holidays_of(check_calendar(calendar), day.year)


def is_weekend_like(day: date, calendar: str = MARTINIQUE) -> bool:
    """Saturday, Sunday or a public holiday."""
    return day.weekday() >= 5 or is_holiday(day, calendar)


def similar_days(
    event_day: date,
    count: int,
    days: str = WEEKDAYS,
    calendar: str = MARTINIQUE,
    excluded_days: Collection[date] = (),
    lookback_days: int = DEFAULT_LOOKBACK_DAYS,
) -> tuple[date, ...]:
    """Up to `count` days before `event_day`, latest first, of the kind `days` asks and not excluded.

    `weekdays`: Monday–Friday that are not holidays; `weekends`: Saturdays, Sundays and holidays;
    `same-kind`: the event day's kind; `all`: every day. Excluded days (earlier event days: the
    caller knows them) are passed over and the search goes further back, at most `lookback_days`:
    fewer days than asked is then the caller's `insufficient_history`, never a day of the wrong kind.
    """
    if days not in DAY_KINDS:
        raise CurtailmentRefused("days", f"{days!r} is not one of {', '.join(DAY_KINDS)}")
    if count < 1:
        raise CurtailmentRefused("y", f"{count} days: at least one is needed")
    check_calendar(calendar)
    kind = {WEEKDAYS: False, WEEKENDS: True, SAME_KIND: is_weekend_like(event_day, calendar)}.get(days)
    excluded = frozenset(excluded_days)
    found: list[date] = []
    for back in range(1, lookback_days + 1):
        day = event_day - timedelta(days=back)
        if day in excluded or (kind is not None and is_weekend_like(day, calendar) != kind):
            continue
        found.append(day)
        if len(found) == count:
            break
    return tuple(found)


def local_day(moment: datetime, calendar: str = MARTINIQUE) -> date:
    """The calendar day of `moment` in `calendar`'s time zone."""
    return moment.astimezone(_ZONES[check_calendar(calendar)]).date()


def days_earlier(moment: datetime, days: int, calendar: str = MARTINIQUE) -> datetime:
    """`moment`'s wall-clock time `days` calendar days earlier (UTC): Martinique keeps UTC−4, so this is whole
    24-hour days; in mainland France a day across a clock change is 23 or 25 hours and the wall-clock time is kept."""
    zone = _ZONES[check_calendar(calendar)]
    wall = moment.astimezone(zone).replace(tzinfo=None) - timedelta(days=days)
    return wall.replace(tzinfo=zone).astimezone(UTC)

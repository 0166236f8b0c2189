"""How times, numbers and events read on the pages (pure: the time zone is always passed in).

Pages show times in the `[ui] timezone` with its abbreviation ("2026-11-26 18:00:00 AST") and the
UTC time on hover; the CSV exports stay in UTC ISO 8601 (machines read them). Filters read times
typed without an offset in the same zone.
"""

from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from markupsafe import Markup

from mapping.oadr import model as m
from mapping.oadr.lifecycle import event_end
from mapping.oadr.timefmt import format_datetime, format_duration, parse_datetime
from vtn.curtailment.table import kw  # one kW format for the table and the pages

SECONDS = "%Y-%m-%d %H:%M:%S"
MINUTES = "%Y-%m-%d %H:%M"
CLOCK = "%H:%M"


# --- times ------------------------------------------------------------------------------------


def utc_offset(moment: datetime, zone: tzinfo) -> str:
    """'UTC−4', 'UTC+5:30' or 'UTC+0': the offset of `zone` at `moment`."""
    offset = moment.astimezone(zone).utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds()) // 60
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{'−' if minutes < 0 else '+'}{hours}" + (f":{rest:02d}" if rest else "")


def zone_abbreviation(moment: datetime, zone: tzinfo) -> str:
    """'AST' where the zone names its time at `moment`, else the offset ('UTC−3')."""
    name = moment.astimezone(zone).tzname() or ""
    # tzdata writes a bare offset ('-03') for zones that have no abbreviation
    return name if name.isalpha() else utc_offset(moment, zone)


def local_time(moment: datetime | None, zone: tzinfo, pattern: str = SECONDS) -> str:
    """'2026-11-26 18:00:00 AST': `moment` in `zone` with the zone's abbreviation, or a dash."""
    if moment is None:
        return "—"
    return f"{moment.astimezone(zone).strftime(pattern)} {zone_abbreviation(moment, zone)}"


def utc_time(moment: datetime, pattern: str = SECONDS) -> str:
    """'2026-11-26 22:00:00 UTC'."""
    return f"{moment.astimezone(UTC).strftime(pattern)} UTC"


def time_tag(moment: datetime | str | None, zone: tzinfo, pattern: str = SECONDS) -> Markup:
    """`<time datetime="…Z" title="… UTC">local time</time>`, or a dash for no time.

    A string is an ISO 8601 time as the stores hand out report and opt times.
    """
    if moment is None or moment == "":
        return Markup("—")
    at = parse_datetime(moment) if isinstance(moment, str) else moment
    return Markup('<time datetime="{}" title="{}">{}</time>').format(
        format_datetime(at), utc_time(at, pattern), local_time(at, zone, pattern)
    )


def window(event: m.Event, zone: tzinfo) -> str:
    """'2026-11-26 18:00 → 19:00 AST (PT1H)': the event's window in `zone` (UTC gives the UTC form)."""
    start = event.dtstart.astimezone(zone)
    end = event_end(event.dtstart, event.duration)
    if end is None:
        span = f"{local_time(start, zone, MINUTES)} → open-ended"
    else:
        local_end = end.astimezone(zone)
        same_name = zone_abbreviation(start, zone) == zone_abbreviation(end, zone)
        begin = start.strftime(MINUTES) if same_name else local_time(start, zone, MINUTES)
        span = f"{begin} → {local_time(end, zone, CLOCK if local_end.date() == start.date() else MINUTES)}"
    return f"{span} ({format_duration(event.duration)})"


def window_tag(event: m.Event, zone: tzinfo) -> Markup:
    """The window in `zone` with its UTC form on hover."""
    return Markup('<time datetime="{}" title="{}">{}</time>').format(
        format_datetime(event.dtstart), window(event, UTC), window(event, zone)
    )


def zone_name(zone: tzinfo) -> str:
    """'America/Martinique' (the IANA name of a ZoneInfo)."""
    return str(getattr(zone, "key", zone))


def zone_label(zone: tzinfo, now: datetime) -> str:
    """'America/Martinique, AST': how a form says which zone its times are read in."""
    return f"{zone_name(zone)}, {zone_abbreviation(now, zone)}"


def parse_local(text: str, zone: tzinfo, next_day: bool = False) -> datetime:
    """A time typed into a filter, in UTC: a date alone is the start of that day in `zone` (of the next
    day with `next_day`, for an upper bound); a time without an offset ('2026-11-26 18:00') is read in
    `zone`; one with an offset ('…Z', '…-04:00') is taken as written.

    Raises ValueError for anything else and OverflowError past the calendar's ends.
    """
    text = text.strip()
    moment = datetime.fromisoformat(text)
    if len(text) == 10 and next_day:  # YYYY-MM-DD
        moment += timedelta(days=1)
    return (moment.replace(tzinfo=zone) if moment.tzinfo is None else moment).astimezone(UTC)


# --- numbers ------------------------------------------------------------------------------------


def reading(value: float | None) -> str:
    """A reported value for reading: two decimals, three significant digits when two decimals would show 0.00."""
    if value is None:
        return ""
    return f"{value:.3g}" if 0 < abs(value) < 0.005 else f"{value:.2f}"


def percent(ratio: float | None) -> str:
    """'115 %', or a dash when there is no ratio."""
    return "—" if ratio is None else f"{ratio * 100:.0f} %"


def unit_symbol(item: m.ItemUnit | None) -> str:
    """'kW' for units W at scale k; '' for a unit-less signal."""
    if item is None or not item.units:
        return ""
    prefix = "" if item.scale in ("none", "") else item.scale
    return f"{prefix}{item.units}"


# --- events and sites ---------------------------------------------------------------------------


def signals(event: m.Event) -> str:
    """'SIMPLE/level 1, 2, 3' per signal, with the unit when there is one."""
    return "; ".join(
        f"{s.name}/{s.type} {', '.join(f'{i.value:g}' for i in s.intervals)}"
        + (f" {unit_symbol(s.unit)}" if unit_symbol(s.unit) else "")
        for s in event.signals
    )


def targets(event: m.Event) -> str:
    """'ven: a, b; group: north' or 'all VENs'."""
    t = event.target
    parts = [
        f"{label}: {', '.join(values)}"
        for label, values in (("ven", t.ven_ids), ("group", t.group_ids), ("resource", t.resource_ids), ("party", t.party_ids))
        if values
    ]
    return "; ".join(parts) or "all VENs"


def site_order(ven_name: str | None, ven_id: str) -> tuple[str, str]:
    """Sort key of VEN rows: the site name (oadrVenName, or the venID of a VEN without one), then the venID."""
    return (ven_name or ven_id, ven_id)


def helpers(zone: tzinfo, now: datetime) -> dict[str, Any]:
    """The templates' helpers, showing times in `zone`."""

    def at(moment: datetime | str | None, pattern: str = SECONDS) -> Markup:
        return time_tag(moment, zone, pattern)

    def local_window(event: m.Event) -> Markup:
        return window_tag(event, zone)

    return {
        "at": at,
        "window": local_window,
        "signals": signals,
        "targets": targets,
        "kw": kw,
        "reading": reading,
        "percent": percent,
        "zone_label": zone_label(zone, now),
    }

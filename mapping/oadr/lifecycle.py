"""Event status over time and event ordering, as 2.0b defines them. Pure: `now` is an argument."""

from datetime import datetime, timedelta

from mapping.oadr.model import Event, EventStatus


def event_end(dtstart: datetime, duration: timedelta) -> datetime | None:
    """When an event ends; a zero duration means 'until cancelled' (no end)."""
    return dtstart + duration if duration > timedelta(0) else None


def event_status(
    dtstart: datetime,
    duration: timedelta,
    now: datetime,
    *,
    cancelled: bool = False,
    ramp_up: timedelta | None = None,
    near_window: timedelta = timedelta(0),
) -> EventStatus:
    """The eventStatus at `now`: far, near (within the ramp-up, else `near_window`), active, completed, cancelled."""
    if cancelled:
        return EventStatus.CANCELLED
    end = event_end(dtstart, duration)
    if end is not None and now >= end:
        return EventStatus.COMPLETED
    if now >= dtstart:
        return EventStatus.ACTIVE
    near = ramp_up if ramp_up else near_window
    if near and now >= dtstart - near:
        return EventStatus.NEAR
    return EventStatus.FAR


def status_boundaries(
    dtstart: datetime,
    duration: timedelta,
    *,
    ramp_up: timedelta | None = None,
    near_window: timedelta = timedelta(0),
    start_after: timedelta | None = None,
) -> list[datetime]:
    """The instants at which an event's status or delivery can change, in order."""
    near = ramp_up if ramp_up else near_window
    points = [dtstart - near] if near else []
    points.append(dtstart)
    end = event_end(dtstart, duration)
    if end is not None:
        points.append(end)
        if start_after:
            points.append(end + start_after)
    return points


def delivered_until(dtstart: datetime, duration: timedelta, start_after: timedelta | None) -> datetime | None:
    """How long a VTN keeps distributing an event: its end plus the startafter randomization window
    (a VEN may still be running it then), shown with status completed after the nominal end."""
    end = event_end(dtstart, duration)
    return end + (start_after or timedelta(0)) if end is not None else None


def priority_key(event: Event) -> tuple[int, datetime, str]:
    """Sort key for delivery: priority 1 is highest, larger numbers lower, 0 or absent means none (lowest)."""
    priority = event.priority or 0
    rank = priority if priority > 0 else 2**31
    return (rank, event.dtstart, event.event_id)

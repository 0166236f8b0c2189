"""What every adapter shares: the event it asks for, checks against the 15-minute grid, local time ↔ UTC, field checks."""

import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from mapping.grid import LOCAL_ZONE, QUARTER, is_on_grid
from mapping.oadr import model as m
from mapping.openadr3 import wire
from mapping.precedence import GRID_HIGHEST
from mapping.refusal import Refused


@dataclass(frozen=True)
class AdapterSettings:
    """Per-kind settings from `[dso.signals.<kind>]`: the program, the zones (groups) targeted, the local zone
    (`[dso] time_zone`, Martinique: the wall-clock times of EDF SEI's alerts)."""

    program_id: str
    zones: tuple[str, ...] = ()
    time_zone: str = LOCAL_ZONE
    #: Tempo only: colour → (off-peak, peak) price per kWh, and the peak window in Paris time (RTE's)
    prices: dict[str, tuple[float, float]] = field(default_factory=dict)
    peak_start: time = time(6, 0)
    peak_end: time = time(22, 0)
    currency: str = "EUR"


@dataclass(frozen=True)
class EventSpec:
    """One event an adapter asks for: 15-minute intervals from `start` (UTC), one signal."""

    key: str
    program_id: str
    start: datetime
    signal_name: str
    signal_type: str
    values: tuple[float, ...]
    unit: m.ItemUnit | None
    target: m.Target
    comment: str
    #: the operators' signals carry no priority of their own: each is a grid constraint, all at the top of
    #: the grid band (`mapping.precedence`), so where they overlap at a site the VEN keeps the stricter
    priority: int = GRID_HIGHEST

    @property
    def end(self) -> datetime:
        """When the event ends."""
        return self.start + QUARTER * len(self.values)


@dataclass(frozen=True)
class Translation:
    """A message's id (idempotency key) and the events it becomes; notes say what was not carried."""

    message_id: str
    events: tuple[EventSpec, ...]
    notes: tuple[str, ...] = ()


def message_id(body: dict[str, Any], *keys: str) -> str:
    """The operator's message id: the first of `keys` present (1–256 characters)."""
    for key in keys:
        if body.get(key) is not None:
            value = body[key]
            if not isinstance(value, str | int) or isinstance(value, bool) or not str(value) or len(str(value)) > 256:
                raise Refused(key, "expected a message id of 1 to 256 characters")
            return str(value)
    raise Refused(keys[0], "is required (the operator's message id: the same message twice creates one event)")


def aware(value: Any, field_name: str) -> datetime:
    """A date-time with an offset, in UTC."""
    return wire.date_time(value, field_name)


def on_grid(moment: datetime, field_name: str) -> datetime:
    """`moment` if it lies on the 15-minute grid, else refused."""
    if not is_on_grid(moment):
        raise Refused(field_name, f"{wire.out_time(moment)} is not on the 15-minute grid (:00, :15, :30, :45)")
    return moment


def window(body: dict[str, Any], start_key: str, end_key: str) -> tuple[datetime, int]:
    """(start, number of quarter hours) of a window given as two aware date-times on the grid."""
    start = on_grid(aware(body.get(start_key), start_key), start_key)
    end = on_grid(aware(body.get(end_key), end_key), end_key)
    if end <= start:
        raise Refused(end_key, "must be after " + start_key)
    if end - start > timedelta(days=7):
        raise Refused(end_key, "a window of at most 7 days")
    return start, int((end - start) / QUARTER)


def local_day(value: Any, field_name: str) -> date:
    """A calendar day `YYYY-MM-DD` (or the date part of a date-time)."""
    if not isinstance(value, str):
        raise Refused(field_name, "expected a day such as 2026-11-26")
    try:
        return date.fromisoformat(value[:10])
    except ValueError as exc:
        raise Refused(field_name, f"{value!r} is not a day such as 2026-11-26") from exc


def local_time(value: Any, field_name: str) -> time:
    """A local wall-clock time `HH:MM` on the 15-minute grid."""
    try:
        parsed = time.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        parsed = None
    if parsed is None or parsed.second or parsed.minute % 15:
        raise Refused(field_name, "expected a local time such as 18:00 (on the 15-minute grid)")
    return parsed


def at_local(day: date, clock: time, zone: str) -> datetime:
    """A local wall-clock time of a day, in UTC."""
    return datetime.combine(day, clock, tzinfo=ZoneInfo(zone)).astimezone(UTC)


def number(value: Any, field_name: str, low: float | None = None, high: float | None = None) -> float:
    """A finite number within [low, high]."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise Refused(field_name, "expected a number")
    if (low is not None and value < low) or (high is not None and value > high):
        raise Refused(field_name, f"expected a number from {low} to {high}")
    return float(value)


def zone_target(zones: tuple[str, ...]) -> m.Target:
    """The 2.0b target of configured zones (groups); none configured = every VEN."""
    return m.Target(group_ids=zones)

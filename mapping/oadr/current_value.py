"""The currentValue of each event signal at a given instant. Pure: `at` is an argument.

The 2.0b schema defines currentValue as "the payloadFloat value of the event interval currently
executing". Before an event starts, after it ends and once it is cancelled no interval executes; the
Alliance's certification cases then carry 0 (a pending CPP event, a cancelled one), and so do we.
"""

from dataclasses import replace
from datetime import datetime, timedelta

from mapping.oadr.model import Event, EventStatus, Signal


def interval_in_force(signal: Signal, dtstart: datetime, at: datetime) -> int | None:
    """The index of the interval of `signal` that covers `at`, the intervals following each other from
    `dtstart` (an interval's own dtstart, when the sender gave one, wins); None when none covers it.
    A last interval of duration 0 lasts as long as the event (2.0b: open-ended)."""
    cursor = dtstart
    for index, interval in enumerate(signal.intervals):
        start = interval.dtstart or cursor
        if at < start:
            return None
        if interval.duration <= timedelta(0) or at < start + interval.duration:
            return index
        cursor = start + interval.duration
    return None


def signal_value_at(event: Event, signal: Signal, at: datetime) -> float:
    """What currentValue says for `signal` of `event` at `at`: the value of the interval in force while the
    event is active, else 0."""
    if event.status != EventStatus.ACTIVE:
        return 0.0
    index = interval_in_force(signal, event.dtstart, at)
    return signal.intervals[index].value if index is not None else 0.0


def in_force_key(event: Event, at: datetime) -> tuple[int | None, ...]:
    """Per signal, the index of the interval in force at `at` (None for all unless the event is active): what an
    encoding of `event` depends on besides the event itself — equal keys encode to equal bytes."""
    if event.status != EventStatus.ACTIVE:
        return tuple(None for _ in event.signals)
    return tuple(interval_in_force(s, event.dtstart, at) for s in event.signals)


def with_current_values(event: Event, at: datetime) -> Event:
    """`event` with every signal's currentValue set for the instant `at`."""
    signals = tuple(replace(s, current_value=signal_value_at(event, s, at)) for s in event.signals)
    return replace(event, signals=signals)

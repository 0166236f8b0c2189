"""Ending an event early: its signals without the intervals at or after a given instant. Pure.

Used when a site leaves an aggregator's portfolio (its open orders end at the switch) and when a newer
series replaces an older one (the older one's remaining intervals end where the newer one begins).
"""

from dataclasses import replace
from datetime import datetime

from mapping.oadr import model as m


def cut_signals(event: m.Event, at: datetime) -> tuple[m.Signal, ...] | None:
    """The event's signals cut at `at` (an interval across `at` is shortened to end there); None when
    nothing is left before `at` (the event is to be cancelled instead)."""
    if at <= event.dtstart:
        return None
    signals = []
    for signal in event.signals:
        kept, start = [], event.dtstart
        for interval in signal.intervals:
            if start >= at:
                break
            end = start + interval.duration
            kept.append(interval if end <= at else replace(interval, duration=at - start))
            start = end
        signals.append(replace(signal, intervals=tuple(kept)))
    return tuple(signals)


def ends_after(event: m.Event, at: datetime) -> bool:
    """Whether any of the event's intervals reaches past `at` (there is something to end)."""
    return event.dtstart + event.duration > at

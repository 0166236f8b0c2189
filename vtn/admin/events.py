"""Creating, modifying and cancelling events in the store — the one place that changes events.

Used by the CLI (directly on the database) and by the VTN's own APIs; a running VTN picks up
changes through the store's change feed. Here too the precedence rule holds (`mapping.precedence`):
whatever priority a grid operator's or an aggregator's event asks for, it is stored in its origin's band.
"""

import uuid
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from mapping.oadr import model as m
from mapping.oadr.lifecycle import event_end, event_status
from mapping.oadr.model import EventStatus
from mapping.precedence import grid_priority, market_priority
from vtn.store import Tx
from vtn.store import repository as repo
from vtn.store.ui_repository import audit

#: the values of oadrResponseRequired
RESPONSE_REQUIRED = ("always", "never")


class EventRefused(ValueError):
    """A change that cannot be made; the message says why."""


def new_event_id() -> str:
    """A fresh eventID."""
    return f"evt-{uuid.uuid4().hex[:16]}"


def uniform_signal(
    name: str, signal_type: str, values: list[float], interval: timedelta, unit: m.ItemUnit | None, signal_id: str = "0"
) -> m.Signal:
    """A signal of equal-length intervals carrying `values` in order."""
    if not values:
        raise EventRefused("a signal needs at least one interval")
    if interval <= timedelta(0):
        raise EventRefused("interval duration must be positive")
    if interval.microseconds:
        raise EventRefused("interval duration must be whole seconds (2.0b durations carry no fractions)")
    return m.Signal(
        name=name,
        type=signal_type,
        signal_id=signal_id,
        unit=unit,
        intervals=tuple(m.Interval(duration=interval, value=v, uid=i) for i, v in enumerate(values)),
    )


def draft_event(
    *,
    market_context: str,
    dtstart: datetime,
    signals: tuple[m.Signal, ...],
    now: datetime,
    near_window: timedelta,
    target: m.Target | None = None,
    event_id: str | None = None,
    priority: int | None = None,
    test_event: bool = False,
    response_required: str = "always",
    vtn_comment: str | None = None,
    start_after: timedelta | None = None,
    notification: timedelta | None = None,
    ramp_up: timedelta | None = None,
    recovery: timedelta | None = None,
) -> m.Event:
    """A new event (modification 0); its duration is the sum of the first signal's intervals."""
    if not signals:
        raise EventRefused("an event needs at least one signal")
    duration = sum((i.duration for i in signals[0].intervals), timedelta())
    for signal in signals[1:]:
        if sum((i.duration for i in signal.intervals), timedelta()) != duration:
            raise EventRefused(f"signal {signal.signal_id} does not cover the same window as the first signal")
    if response_required not in ("always", "never"):
        raise EventRefused("response_required must be 'always' or 'never'")
    if priority is not None and priority < 0:
        raise EventRefused("priority must be 0 (none) or a positive integer (1 is highest)")
    dtstart = dtstart.replace(microsecond=0)  # the wire carries whole seconds
    status = event_status(dtstart, duration, now, ramp_up=ramp_up, near_window=near_window)
    return m.Event(
        event_id=event_id or new_event_id(),
        modification_number=0,
        modification_datetime=now,
        market_context=market_context,
        created=now,
        status=status,
        dtstart=dtstart,
        duration=duration,
        signals=signals,
        target=target or m.Target(),
        priority=priority,
        test_event="true" if test_event else "false",
        response_required=response_required,
        vtn_comment=vtn_comment,
        start_after=start_after,
        notification=notification,
        ramp_up=ramp_up,
        recovery=recovery,
    )


def draft_uniform_event(
    name: str, signal_type: str, values: list[float], step: timedelta, unit: m.ItemUnit | None, **fields: Any
) -> m.Event:
    """A new event with one signal of equal-length intervals (what the CLI, the APIs and the adapters
    send); `fields` are those of `draft_event` but `signals`."""
    return draft_event(signals=(uniform_signal(name, signal_type, values, step, unit),), **fields)


#: the prefixes of the sources the VTN's APIs write: the grid operators' (`vtn.dso`), the aggregators'
#: (`vtn.aggregator`); any other source (the CLI, a UI user) is the VTN's operator
GRID_SOURCE, MARKET_SOURCE = "dso:", "aggregator:"


def ranked(source: str, priority: int | None) -> int | None:
    """The priority an event of `source` is stored with: a grid operator's (`dso:…`) in the grid band, an
    aggregator's (`aggregator:…`) in the market band below it, an operator's (CLI, UI) as given."""
    if source.startswith(GRID_SOURCE):
        return grid_priority(priority)
    if source.startswith(MARKET_SOURCE):
        return market_priority(priority)
    return priority


def _targets_overlap(a: m.Target, b: m.Target) -> bool:
    if a.is_empty() or b.is_empty():
        return True
    return any(set(getattr(a, f)) & set(getattr(b, f)) for f in ("ven_ids", "group_ids", "resource_ids", "party_ids"))


def _other_grid_mechanism(a: str, b: str) -> bool:
    """True for two different grid sources: two DSO clients, or two kinds of French signal (`dso:<client>/<kind>`)."""
    return a != b and a.startswith(GRID_SOURCE) and b.startswith(GRID_SOURCE)


def conflicting_event(session: Tx, event: m.Event, source: str) -> m.Event | None:
    """A live event of the same program and priority whose window and targets overlap `event`'s.

    2.0b leaves a VEN no rule to choose between two such events, so the VTN refuses the second — from
    the same sender. Events of two different grid mechanisms (sources `dso:…` that differ) coexist:
    each is a limit the grid needs, and the VEN holds them all (the highest priority, then the stricter
    value, `mapping.flex.combine`). Targets overlap when either is empty or they share an id (a group
    and a venID are not expanded).
    """
    end = event_end(event.dtstart, event.duration)
    for live in repo.load_live_overlapping(session, event.market_context, event.priority or 0, event.dtstart, end):
        other = live.event
        if live.cancelled or other.event_id == event.event_id or _other_grid_mechanism(live.source, source):
            continue
        if _targets_overlap(other.target, event.target):
            return other
    return None


def create_event(session: Tx, event: m.Event, source: str, now: datetime) -> m.Event:
    """Store a drafted event, its priority ranked by `source` (`ranked`), and return it as stored;
    refused when it duplicates an id or conflicts with a live event."""
    if repo.load_event(session, event.event_id) is not None:
        raise EventRefused(f"event {event.event_id} already exists")
    event = replace(event, priority=ranked(source, event.priority))
    clash = conflicting_event(session, event, source)
    if clash is not None:
        raise EventRefused(
            f"event {clash.event_id} of the same program and priority ({event.priority or 0}) already covers this window for "
            "these targets; give the new event another priority, other targets or another window"
        )
    repo.insert_event(session, event, source, now)
    audit(session, source, "create_event", event.event_id, {"modification_number": 0, "program": event.market_context}, now)
    return event


def _open_event(session: Tx, event_id: str) -> m.Event:
    found = repo.load_event(session, event_id)
    if found is None:
        raise EventRefused(f"no event {event_id}")
    live, closed = found
    if closed or live.cancelled:
        raise EventRefused(f"event {event_id} is {live.event.status}; it can no longer change")
    return live.event


def modify_event(
    session: Tx, event_id: str, now: datetime, near_window: timedelta, reason: str, *, actor: str, **changes: object
) -> m.Event:
    """Store a new modification of an event (fields of `mapping.oadr.model.Event` in `changes`), audited
    as done by `actor` (an operator, `cli`, `dso:<client>`, `aggregator:<client>`), its priority ranked by `actor`."""
    current = _open_event(session, event_id)
    revised = replace(current, **changes)  # type: ignore[arg-type]
    revised = replace(revised, priority=ranked(actor, revised.priority))
    duration = sum((i.duration for i in revised.signals[0].intervals), timedelta())
    status = event_status(revised.dtstart, duration, now, ramp_up=revised.ramp_up, near_window=near_window)
    revised = replace(
        revised,
        duration=duration,
        status=status,
        modification_number=current.modification_number + 1,
        modification_datetime=now,
        modification_reason=reason,
    )
    repo.revise_event(session, revised, now)
    audit(session, actor, "modify_event", event_id, {"modification_number": revised.modification_number, "reason": reason}, now)
    return revised


def cancel_event(
    session: Tx,
    event_id: str,
    now: datetime,
    reason: str = "cancelled",
    *,
    actor: str,
    response_required: str | None = None,
) -> m.Event:
    """Cancel an event: a new modification with status cancelled, audited as done by `actor`.

    `response_required` ("always" or "never") changes the event's oadrResponseRequired with the cancellation
    (certification case A_E3_0498: a cancellation the VENs are not to answer); None keeps it."""
    if response_required is not None and response_required not in RESPONSE_REQUIRED:
        raise EventRefused(f"oadrResponseRequired: expected one of {', '.join(RESPONSE_REQUIRED)}, got {response_required!r}")
    current = _open_event(session, event_id)
    revised = replace(
        current,
        status=EventStatus.CANCELLED,
        modification_number=current.modification_number + 1,
        modification_datetime=now,
        modification_reason=reason,
        response_required=response_required or current.response_required,
    )
    repo.revise_event(session, revised, now, cancelled=True)
    details = {"modification_number": revised.modification_number, "reason": reason}
    if response_required is not None:
        details["response_required"] = response_required
    audit(session, actor, "cancel_event", event_id, details, now)
    return revised

"""currentValue (review issue 22, finding 10): the payloadFloat value of the interval in force when the
oadrDistributeEvent is built, per signal; 0 while no interval executes (pending, cancelled)."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from mapping.oadr import model as m
from mapping.oadr.current_value import interval_in_force, with_current_values
from tests.support.vtn_harness import config_for_tests, running_vtn

T0 = datetime(2026, 12, 7, 18, 0, tzinfo=UTC)
QUARTER = timedelta(minutes=15)


def _signal(signal_id: str, *values: float) -> m.Signal:
    intervals = tuple(m.Interval(duration=QUARTER, value=v, uid=i) for i, v in enumerate(values))
    return m.Signal("SIMPLE", "level", signal_id, intervals)


def _event(status: str, *signals: m.Signal) -> m.Event:
    return m.Event("e1", 0, "http://x", T0, status, T0, QUARTER * 3, signals)


@pytest.mark.parametrize(
    ("offset", "expected"),
    [(timedelta(0), 0), (QUARTER - timedelta(seconds=1), 0), (QUARTER, 1), (QUARTER * 3 - timedelta(seconds=1), 2)],
)
def test_the_interval_in_force_follows_the_durations(offset, expected):
    assert interval_in_force(_signal("s", 1, 2, 3), T0, T0 + offset) == expected


def test_no_interval_is_in_force_outside_the_signal():
    signal = _signal("s", 1, 2, 3)
    assert interval_in_force(signal, T0, T0 - timedelta(seconds=1)) is None
    assert interval_in_force(signal, T0, T0 + QUARTER * 3) is None


def test_each_signal_gets_its_own_value_while_active():
    event = _event("active", _signal("a", 1, 2, 3), _signal("b", 7, 8, 9))
    at = T0 + QUARTER + timedelta(minutes=1)
    assert [s.current_value for s in with_current_values(event, at).signals] == [2, 8]


@pytest.mark.parametrize("status", ["far", "near", "completed", "cancelled"])
def test_no_interval_executes_unless_active(status):
    event = _event(status, _signal("a", 1, 2, 3))
    at = T0 + QUARTER  # inside the window: the status decides (a cancelled event executes nothing)
    assert with_current_values(event, at).signals[0].current_value == 0


async def _polled_event(vtn, ven_id: str, event_id: str) -> m.Event:
    reply = await vtn.client.request_events(ven_id)
    return next(e for e in reply.events if e.event_id == event_id)


async def test_a_polled_active_event_carries_the_value_in_force(sqlite_url):
    async with running_vtn(config_for_tests(sqlite_url)) as vtn:
        reg = await vtn.client.register("site-current")
        now = vtn.ctx.now()
        # begun 20 minutes ago: its second quarter hour (value 2) is in force
        event = await vtn.create_event(values=(1.0, 2.0, 3.0), start_at=now - timedelta(minutes=20), response_required="never")
        pending = await vtn.create_event(values=(3.0,), start_in=timedelta(hours=2), response_required="never")
        while not isinstance(reply := await vtn.client.poll(reg.ven_id), m.DistributeEvent):
            pass  # the VTN's own queued messages first (its report registration…)
        polled = {e.event_id: e for e in reply.events}
        assert polled[event.event_id].status == "active"
        assert polled[event.event_id].signals[0].current_value == 2.0
        assert polled[pending.event_id].signals[0].current_value == 0.0


async def test_the_value_follows_the_interval_at_each_distribution(sqlite_url):
    """Built when sent, not when first encoded: a later oadrDistributeEvent of the same modification carries the
    value of the interval in force then (the clock moved a quarter hour)."""
    clock = {"now": datetime.now(UTC).replace(microsecond=0)}
    async with running_vtn(config_for_tests(sqlite_url)) as vtn:
        vtn.ctx.clock = lambda: clock["now"]
        reg = await vtn.client.register("site-current-later")
        event = await vtn.create_event(
            values=(1.0, 2.0, 3.0), start_at=clock["now"] - timedelta(minutes=1), response_required="never"
        )
        first = await _polled_event(vtn, reg.ven_id, event.event_id)
        clock["now"] += QUARTER
        later = await _polled_event(vtn, reg.ven_id, event.event_id)
        assert (first.signals[0].current_value, later.signals[0].current_value) == (1.0, 2.0)
        assert replace(later, signals=first.signals) == first  # nothing else changed

"""One place per concept in mapping/: the 15-minute grid, the refusal, the 2.0b opt types and event statuses."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mapping import grid
from mapping.curtailment import CurtailmentRefused, event_slots
from mapping.flex import constraints
from mapping.flex.units import UnitRefused, power_kw
from mapping.flexready import clock
from mapping.oadr import model as m
from mapping.oadr.lifecycle import event_status
from mapping.refusal import Refused

Q = timedelta(minutes=15)
T0 = datetime(2026, 11, 26, 22, tzinfo=UTC)  # 18:00 in Martinique


@given(st.datetimes(min_value=datetime(2001, 1, 1), max_value=datetime(2098, 12, 31), timezones=st.just(UTC)))
def test_every_instant_lies_in_one_quarter_hour(moment):
    floor, ceil = grid.floor_slot(moment), grid.ceil_slot(moment)
    assert floor <= moment < floor + grid.QUARTER and floor.minute % 15 == 0 and floor.second == floor.microsecond == 0
    assert ceil == (floor if grid.is_on_grid(moment) else floor + grid.QUARTER)
    assert grid.is_on_grid(moment) == (moment.minute % 15 == 0 and moment.second == 0 and moment.microsecond == 0)


def test_martinique_quarter_hours_are_the_utc_ones():
    local = datetime(2026, 11, 26, 18, 7, tzinfo=timezone(timedelta(hours=-4)))
    assert grid.floor_slot(local) == T0 and grid.ceil_slot(local) == T0 + Q


def test_a_span_owns_every_slot_it_touches():
    assert grid.slots_between(T0 + timedelta(minutes=7), T0 + timedelta(minutes=31)) == (T0, T0 + Q, T0 + 2 * Q)
    assert grid.slots_between(T0, T0 + Q) == (T0,) and grid.slots_between(T0, T0) == ()
    assert grid.slot_starts(T0, 3) == (T0, T0 + Q, T0 + 2 * Q)
    assert event_slots(T0 + timedelta(minutes=7), T0 + timedelta(minutes=31)) == grid.slots_between(
        T0 + timedelta(minutes=7), T0 + timedelta(minutes=31)
    )


def test_the_grid_has_one_home():
    """The quarter hour and its helpers are mapping.grid's alone: the old copies are gone."""
    import mapping.curtailment.report
    import mapping.dso.common
    import mapping.flex.combine

    assert grid.QUARTER == timedelta(minutes=15)
    assert not hasattr(mapping.flex.combine, "RESOLUTION") and not hasattr(mapping.curtailment.report, "GRANULARITY")
    assert "QUARTER" not in clock.__all__ and "QUARTER" not in getattr(mapping.dso.common, "__all__", ())


def test_every_refusal_is_one_error_naming_its_field():
    with pytest.raises(UnitRefused) as unit:
        power_kw(1.0, m.ItemUnit("powerReal", "RealPower", "W", "X"))
    with pytest.raises(CurtailmentRefused) as curtailment:
        event_slots(T0, T0)
    signal = m.Signal("SIMPLE", "level", "s", (m.Interval(Q, 7.0, 0),))
    event = m.Event("e", 0, "ctx", T0, "far", T0, Q, (signal,))
    with pytest.raises(constraints.SignalRefused) as refused:
        constraints.event_constraints(event, constraints.SiteFacts(contracted_kw=9.0))
    for caught, field in ((unit, "siScaleCode"), (curtailment, "end"), (refused, "SIMPLE")):
        assert isinstance(caught.value, Refused) and isinstance(caught.value, ValueError)
        assert caught.value.field == field and str(caught.value) == f"{field}: {caught.value.reason}"


def test_opt_types_and_event_statuses_are_their_wire_text():
    assert m.OptType.OPT_IN == "optIn" and m.OptType.OPT_OUT == "optOut" and f"{m.OptType.OPT_OUT}" == "optOut"
    assert [s.value for s in m.EventStatus] == ["none", "far", "near", "active", "completed", "cancelled"]
    status = event_status(T0, Q, T0 - timedelta(hours=1))
    assert status is m.EventStatus.FAR and status == "far"
    assert event_status(T0, Q, T0, cancelled=True) == m.EventStatus.CANCELLED == "cancelled"

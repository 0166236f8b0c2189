"""mapping.flex: signals → constraints, unit conversion, overlap rules and the 15-minute grid."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mapping.flex import constraints as c
from mapping.flex.combine import combine
from mapping.flex.flexmeasures import sensor_values, stored_flex_context, trigger_segments
from mapping.flex.program import ProgramRules, Programs
from mapping.flex.units import SCALES, UnitRefused, energy_kwh, power_kw, price_per_kw, price_per_kwh
from mapping.grid import QUARTER, Segment, ceil_slot, floor_slot
from mapping.oadr import model as m
from mapping.oadr.vocabulary import power_kw as kw_unit

T0 = datetime(2026, 11, 26, 22, 0, tzinfo=UTC)  # 18:00 in Martinique
SITE = c.SiteFacts(contracted_kw=36.0, baseline_kw=10.0, base_price_per_kwh=0.2, storage_capacity_kwh=100.0)


def _event(
    name: str, kind: str, values: list[float], unit: m.ItemUnit | None = None, priority: int | None = None, event_id: str = "e"
) -> m.Event:
    signal = m.Signal(name, kind, "s", tuple(m.Interval(timedelta(minutes=15), v, i) for i, v in enumerate(values)), unit=unit)
    return m.Event(event_id, 0, "ctx", T0, "far", T0, timedelta(minutes=15 * len(values)), (signal,), priority=priority)


# --- units ----------------------------------------------------------------------------------


@given(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False), st.sampled_from(["none", "k", "M"]))
def test_power_scales_round_trip(value, scale):
    unit = m.ItemUnit("powerReal", "RealPower", "W", scale)
    assert power_kw(value, unit) == pytest.approx(value * SCALES[scale] / 1000)
    back = power_kw(value, unit) * 1000 / SCALES[scale]
    assert back == pytest.approx(value, rel=1e-9, abs=1e-9)


@given(st.floats(min_value=0, max_value=1e5, allow_nan=False))
def test_energy_in_wh_and_kwh(value):
    assert energy_kwh(value, m.ItemUnit("energyReal", "RealEnergy", "Wh", "none")) == pytest.approx(value / 1000)
    assert energy_kwh(value, m.ItemUnit("energyReal", "RealEnergy", "Wh", "k")) == pytest.approx(value)


def test_prices_per_kwh_mwh_and_per_kw():
    assert price_per_kwh(0.25, m.ItemUnit("currencyPerKWh", "currencyPerKWh", "EUR", "none")) == 0.25
    assert price_per_kwh(180.0, m.ItemUnit("currencyPerKWh", "currencyPerKWh", "EUR", "m")) == pytest.approx(0.18)  # EUR/MWh
    # openleadr writes the per-kW element with its own spelling; the meaning is the same
    assert price_per_kw(12.0, m.ItemUnit("currencyPerKW", "currencyPerKw", "EUR", "none")) == 12.0
    with pytest.raises(UnitRefused, match="USD"):
        price_per_kwh(0.2, m.ItemUnit("currencyPerKWh", "currencyPerKWh", "USD", "none"))
    with pytest.raises(UnitRefused, match="not a power"):
        power_kw(3.0, m.ItemUnit("energyReal", "RealEnergy", "Wh", "k"))


# --- signals → constraints ------------------------------------------------------------------


def _in_event(constraints: list[c.Constraint]) -> list[c.Constraint]:
    """The constraints over the event itself (not its preparation and recovery windows)."""
    return [x for x in constraints if x.kind != c.PREPARATION_CEILING]


@pytest.mark.parametrize(
    ("name", "kind", "value", "unit", "expected"),
    [
        # absolute grid limits stay absolute
        (
            "x-IMPORT_CAPACITY_LIMIT",
            "setpoint",
            6000.0,
            m.ItemUnit("powerReal", "RealPower", "W", "none"),
            [(c.IMPORT_LIMIT, 6.0)],
        ),
        ("x-EXPORT_CAPACITY_LIMIT", "setpoint", 3.0, kw_unit(), [(c.EXPORT_LIMIT, 3.0)]),
        # a setpoint asks the site to be there: no higher, no lower
        ("LOAD_DISPATCH", "setpoint", 8.0, kw_unit(), [(c.IMPORT_CEILING, 8.0), (c.IMPORT_FLOOR, 8.0)]),
        # the rest is against the site's expected load (10 kW here), never its 36 kW subscription
        ("LOAD_DISPATCH", "delta", -4.0, kw_unit(), [(c.IMPORT_CEILING, 6.0)]),
        ("LOAD_DISPATCH", "delta", 5.0, kw_unit(), [(c.IMPORT_FLOOR, 15.0)]),
        ("LOAD_DISPATCH", "multiplier", 0.5, None, [(c.IMPORT_CEILING, 5.0)]),
        ("LOAD_DISPATCH", "multiplier", 1.5, None, [(c.IMPORT_FLOOR, 15.0)]),
        ("SIMPLE", "level", 2, None, [(c.IMPORT_CEILING, 5.0)]),  # ORANGE sheds half of the flexible load
        ("SIMPLE", "level", 0, None, []),  # normal operation asks nothing
        ("LOAD_CONTROL", "x-loadControlCapacity", 0.25, None, [(c.IMPORT_CEILING, 2.5)]),
        ("LOAD_CONTROL", "x-loadControlPercentOffset", -30.0, None, [(c.IMPORT_CEILING, 7.0)]),
        ("LOAD_CONTROL", "x-loadControlPercentOffset", 20.0, None, [(c.IMPORT_FLOOR, 12.0)]),
        ("LOAD_CONTROL", "x-loadControlLevelOffset", 1, None, [(c.IMPORT_CEILING, 8.0)]),
        ("ELECTRICITY_PRICE", "price", 0.31, m.ItemUnit("currencyPerKWh", "currencyPerKWh", "EUR", "none"), [(c.PRICE, 0.31)]),
        ("ENERGY_PRICE", "priceRelative", 0.05, None, [(c.PRICE, 0.25)]),
        ("ELECTRICITY_PRICE", "priceMultiplier", 1.5, None, [(c.PRICE, pytest.approx(0.3))]),
        ("DEMAND_CHARGE", "price", 9.0, m.ItemUnit("currencyPerKW", "currencyPerKW", "EUR", "none"), [(c.PEAK_PRICE, 9.0)]),
        ("CHARGE_STATE", "setpoint", 80.0, m.ItemUnit("energyReal", "RealEnergy", "Wh", "k"), [(c.SOC_TARGET, 80.0)]),
    ],
)
def test_each_signal_maps_to_its_constraint(name, kind, value, unit, expected):
    constraints = _in_event(c.event_constraints(_event(name, kind, [value], unit), SITE))
    assert [(x.kind, x.value) for x in constraints] == expected


def test_a_reduction_is_against_the_event_baseline_when_it_carries_one():
    baseline = m.Signal("baseline", "x-baseline", "b", (m.Interval(timedelta(minutes=15), 4.0, 0, dtstart=T0),), unit=kw_unit())
    event = replace(_event("LOAD_DISPATCH", "delta", [-2.0], kw_unit()), baseline=baseline)
    assert [(x.kind, x.value) for x in _in_event(c.event_constraints(event, SITE))] == [(c.IMPORT_CEILING, 2.0)]


def test_export_is_a_program_decision():
    site = replace(SITE, export_kw=6.0)
    setpoint = _event("LOAD_DISPATCH", "setpoint", [-5.0], kw_unit())
    with pytest.raises(c.SignalRefused, match="5 kW of export, which this program does not ask"):
        c.event_constraints(setpoint, site)
    exporting = replace(site, programs=Programs(ProgramRules(allow_export=True)))
    assert [(x.kind, x.value) for x in _in_event(c.event_constraints(setpoint, exporting))] == [
        (c.IMPORT_CEILING, -5.0),
        (c.IMPORT_FLOOR, -5.0),
    ]
    with pytest.raises(c.SignalRefused, match="above the site's export contract"):
        c.event_constraints(_event("LOAD_DISPATCH", "setpoint", [-9.0], kw_unit()), exporting)
    # a reduction deeper than the whole import stops at zero: delivered as far as possible, never exported
    deep = _in_event(c.event_constraints(_event("LOAD_DISPATCH", "delta", [-14.0], kw_unit()), site))
    assert [(x.kind, x.value) for x in deep] == [(c.IMPORT_CEILING, 0.0)]


def test_a_site_without_flexible_load_cannot_shed():
    with pytest.raises(c.SignalRefused, match="no flexible load"):
        c.event_constraints(_event("SIMPLE", "level", [3]), replace(SITE, flexible_kw=0.0))


def test_the_preparation_and_recovery_windows_hold_the_import_at_the_expected_load():
    rules = ProgramRules(preparation=timedelta(minutes=30), preparation_margin_kw=0.5, recovery=QUARTER)
    site = replace(SITE, programs=Programs(ProgramRules(), {"ctx": rules}))
    around = [x for x in c.event_constraints(_event("SIMPLE", "level", [3]), site) if x.kind == c.PREPARATION_CEILING]
    assert [(x.start - T0, x.end - x.start, x.value) for x in around] == [
        (-2 * QUARTER, QUARTER, 10.5),
        (-QUARTER, QUARTER, 10.5),
        (QUARTER, QUARTER, 10.5),  # the recovery quarter hour after the event's
    ]
    # the event's own recovery period wins over the program's
    own = replace(_event("SIMPLE", "level", [3]), recovery=timedelta(0))
    assert all(x.start < T0 for x in c.event_constraints(own, site) if x.kind == c.PREPARATION_CEILING)
    # an absolute grid limit needs no preparation window: a battery may fill up before it
    grid = c.event_constraints(_event("x-IMPORT_CAPACITY_LIMIT", "setpoint", [5.0], kw_unit()), site)
    assert all(x.start >= T0 for x in grid)


def test_limits_are_capped_by_the_contract_and_bids_ask_nothing():
    [limit] = c.event_constraints(_event("x-IMPORT_CAPACITY_LIMIT", "setpoint", [50.0], kw_unit()), SITE)
    assert limit.value == SITE.contracted_kw
    assert c.event_constraints(_event("BID_LOAD", "setpoint", [5.0], kw_unit()), SITE) == []


def test_soc_target_applies_at_the_end_of_its_interval():
    [target] = c.event_constraints(_event("CHARGE_STATE", "setpoint", [80.0]), SITE)
    assert target.start == target.end == T0 + timedelta(minutes=15)


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        (_event("SIMPLE", "level", [5]), "not one of 0, 1, 2, 3"),
        (_event("x-IMPORT_CAPACITY_LIMIT", "setpoint", [-2.0]), "negative"),
        (_event("x-WHATEVER", "level", [1]), "not supported"),
        (_event("ELECTRICITY_PRICE", "price", [0.2], m.ItemUnit("currencyPerKWh", "currencyPerKWh", "USD", "none")), "USD"),
        (_event("LOAD_CONTROL", "x-loadControlCapacity", [1.5]), "outside 0–1"),
    ],
)
def test_what_cannot_be_expressed_is_refused_with_a_reason(event, reason):
    with pytest.raises(c.SignalRefused, match=reason):
        c.event_constraints(event, SITE)


def test_charge_state_needs_storage():
    with pytest.raises(c.SignalRefused, match="battery or EV"):
        c.event_constraints(_event("CHARGE_STATE", "setpoint", [10.0]), c.SiteFacts(contracted_kw=9.0))


# --- combining overlapping events -----------------------------------------------------------


def test_priority_wins_then_the_stricter_limit():
    high = c.event_constraints(
        _event("x-IMPORT_CAPACITY_LIMIT", "setpoint", [20.0, 20.0], kw_unit(), priority=1, event_id="hi"), SITE
    )
    low = c.event_constraints(
        _event("x-IMPORT_CAPACITY_LIMIT", "setpoint", [5.0, 5.0, 5.0], kw_unit(), priority=2, event_id="lo"), SITE
    )
    same = c.event_constraints(
        _event("x-IMPORT_CAPACITY_LIMIT", "setpoint", [15.0], kw_unit(), priority=1, event_id="same"), SITE
    )
    segments = combine(high + low + same)[c.IMPORT_LIMIT]
    assert [(s.start - T0, s.value) for s in segments] == [
        (timedelta(0), 15.0),  # priority 1 beats priority 2's 5 kW; of the two priority-1 limits the lower wins
        (timedelta(minutes=15), 20.0),
        (timedelta(minutes=30), 5.0),  # only the low-priority event is left
    ]


def test_higher_price_is_stricter_at_equal_priority():
    a = c.event_constraints(_event("ELECTRICITY_PRICE", "price", [0.2], event_id="a"), SITE)
    b = c.event_constraints(_event("ELECTRICITY_PRICE", "price", [0.3], event_id="b"), SITE)
    assert [s.value for s in combine(a + b)[c.PRICE]] == [0.3]


limits = st.builds(
    lambda start_min, length_min, value, priority: c.Constraint(
        c.IMPORT_LIMIT, T0 + timedelta(minutes=start_min), T0 + timedelta(minutes=start_min + length_min), value, priority, "x"
    ),
    st.integers(min_value=-120, max_value=600),
    st.integers(min_value=1, max_value=300),
    st.floats(min_value=0, max_value=36, allow_nan=False),
    st.integers(min_value=1, max_value=3),
)


def _reference_slot_value(constraints, slot):
    """The rule, computed minute by minute: the winner at each minute, the strictest over the slot."""
    winners = []
    for minute in range(15):
        moment = slot + timedelta(minutes=minute)
        in_force = [x for x in constraints if x.start <= moment < x.end]
        if in_force:
            best = min(x.priority for x in in_force)
            winners.append(min(x.value for x in in_force if x.priority == best))
    return min(winners)


@given(st.lists(limits, min_size=1, max_size=8))
def test_combined_segments_are_on_the_grid_disjoint_and_never_looser(constraints):
    segments = combine(constraints)[c.IMPORT_LIMIT]
    for segment in segments:
        assert floor_slot(segment.start) == segment.start and floor_slot(segment.end) == segment.end
        assert segment.duration >= QUARTER
    for a, b in zip(segments, segments[1:], strict=False):
        assert a.end <= b.start
    for constraint in constraints:
        slot = floor_slot(constraint.start)
        while slot < constraint.end:
            covering = [s for s in segments if s.start <= slot < s.end]
            assert len(covering) == 1, "every slot a constraint touches is constrained"
            assert covering[0].value == _reference_slot_value(constraints, slot)
            slot += QUARTER


@given(st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2040, 1, 1), timezones=st.just(UTC)))
def test_slots_are_quarter_hours_in_martinique_too(moment):
    slot = floor_slot(moment)
    assert slot <= moment < slot + QUARTER and slot.minute % 15 == 0 and slot.second == 0 and slot.microsecond == 0
    local = slot.astimezone(timezone(timedelta(hours=-4)))  # America/Martinique: UTC−4, no DST
    assert local.minute % 15 == 0
    assert ceil_slot(moment) in (slot, slot + QUARTER)


# --- FlexMeasures bodies --------------------------------------------------------------------


def test_stored_flex_context_references_sensors_with_defaults():
    context = stored_flex_context({c.IMPORT_LIMIT: 12, c.PRICE: 13}, {c.IMPORT_LIMIT: 36.0})
    assert context == {
        "site-consumption-capacity": {"sensor": 12, "default": "36 kW"},
        "consumption-price": {"sensor": 13},
    }


def test_sensor_values_restore_the_default_outside_the_event():
    segments = [Segment(T0 + QUARTER, T0 + 2 * QUARTER, 6.0)]
    assert sensor_values(segments, T0, T0 + 3 * QUARTER, 36.0) == [36.0, 6.0, 36.0]
    assert trigger_segments(c.IMPORT_LIMIT, segments) == [{"start": "2026-11-26T22:15:00Z", "duration": "PT15M", "value": "6 kW"}]


def test_a_shed_over_one_long_interval_follows_the_forecast_slot_by_slot():
    # one hour-long ORANGE interval over an evening ramp: half of each quarter hour's flexible load, not a flat
    # ceiling at half the hour's mean (which would shed nothing in the first quarter and too much in the last)
    ramp = {T0 + i * QUARTER: kw for i, kw in enumerate((2.0, 2.0, 4.0, 6.0))}
    site = replace(SITE, forecast=c.LoadForecast(expected_kw=ramp, flexible_kw=ramp))
    signal = m.Signal("SIMPLE", "level", "s", (m.Interval(timedelta(hours=1), 2.0, 0),))
    event = m.Event("e", 0, "ctx", T0, "far", T0, timedelta(hours=1), (signal,))
    asked = _in_event(c.event_constraints(event, site))
    share = SITE.programs.rules("ctx").simple_shed[2]
    # equal neighbours are one constraint; each value is the slot's load less its share
    assert [(x.start - T0, x.end - T0, x.value) for x in asked] == [
        (timedelta(0), 2 * QUARTER, pytest.approx(2.0 * (1 - share))),
        (2 * QUARTER, 3 * QUARTER, pytest.approx(4.0 * (1 - share))),
        (3 * QUARTER, 4 * QUARTER, pytest.approx(6.0 * (1 - share))),
    ]
    # against a given eiEventBaseline, the interval is one span
    baseline = m.Signal("BASELINE", "x-loadControlCapacity", "b", (m.Interval(timedelta(hours=1), 5.0, 0),), unit=kw_unit())
    given_baseline = _in_event(c.event_constraints(replace(event, baseline=baseline), site))
    assert len(given_baseline) == 1 and given_baseline[0].end - given_baseline[0].start == timedelta(hours=1)


def test_a_level_sheds_where_the_site_can_and_is_refused_only_where_it_never_can():
    first = T0.replace(minute=0)
    forecast = c.LoadForecast(
        expected_kw={first: 9.0, first + QUARTER: 2.0}, flexible_kw={first: 7.0, first + QUARTER: 0.0}
    )  # an EV charging in the first quarter hour, done in the second
    site = replace(SITE, forecast=forecast)
    asked = _in_event(c.event_constraints(_event("SIMPLE", "level", [3, 3]), site))
    assert [(x.start - T0, x.value) for x in asked] == [(timedelta(0), 2.0)]  # the EV stops; the household stays
    with pytest.raises(c.SignalRefused, match="no flexible load"):
        c.event_constraints(_event("SIMPLE", "level", [3, 3]), replace(SITE, flexible_kw=0.0))

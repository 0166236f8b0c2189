"""The achieved-curtailment report's wire form and the VTN's requested reduction (pure)."""

import math
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mapping.curtailment import Flag
from mapping.curtailment import report as wire
from mapping.curtailment.achieved import Achieved
from mapping.curtailment.requested import import_limit_at, requested_by_slot
from mapping.oadr import model as m
from mapping.oadr.vocabulary import default_unit
from vtn.admin.events import draft_event, uniform_signal
from vtn.csv_export import attachment, safe_values
from vtn.site_registry import DEFAULT_CONTRACTED_KVA, contracted_kw_by_ven

T0 = datetime(2026, 11, 26, 22, 0, tzinfo=UTC)  # 18:00 in Martinique
Q = timedelta(minutes=15)


def _event(name: str, kind: str, values: list[float]) -> m.Event:
    signal = uniform_signal(name, kind, values, Q, default_unit(name, kind))
    return draft_event(market_context="http://p", dtstart=T0, signals=(signal,), now=T0, near_window=timedelta(hours=1))


@given(st.sets(st.sampled_from(list(Flag))))
def test_quality_text_round_trips_the_flags(flags):
    text = wire.quality_of(flags)
    if Flag.MISSING in flags:
        assert text == wire.NO_VALUE and wire.flags_of(text) == {Flag.MISSING} and not wire.has_value(text)
    else:
        assert wire.flags_of(text) == flags and wire.has_value(text)
        assert (text == wire.GOOD) if not flags else text.startswith("x-")


def test_a_missing_value_is_not_sent_at_all():
    item = Achieved(T0, 11.0, None, None, None, 4.0, 1.0, None, frozenset({Flag.MISSING, Flag.PARTIAL}))
    payloads = {r_id: (value, quality) for r_id, value, quality in wire.interval_payloads(item)}
    assert payloads == {wire.BASELINE: (11.0, "x-partial")}  # never a 0 standing for nothing
    nothing = Achieved(T0, None, None, None, None, None, None, None, frozenset({Flag.MISSING}))
    assert wire.interval_payloads(nothing) == ()


def test_the_report_types_are_the_standard_ones():
    assert wire.REPORT_TYPES == {
        wire.BASELINE: "baseline",
        wire.MEASURED: "usage",
        wire.ACHIEVED: "deltaUsage",
        wire.PLANNED: "setPoint",
    }


def test_an_absolute_limit_asks_baseline_minus_limit_and_nothing_when_above():
    event = _event("x-IMPORT_CAPACITY_LIMIT", "setpoint", [7.0, 20.0])
    assert requested_by_slot(event, {T0: 11.0, T0 + Q: 11.0}) == {T0: 4.0, T0 + Q: 0.0}


def test_limits_in_watts_are_converted():
    watts = m.ItemUnit("powerReal", "RealPower", "W", "none")
    signal = uniform_signal("LOAD_DISPATCH", "setpoint", [7000.0], Q, watts)
    event = draft_event(market_context="p", dtstart=T0, signals=(signal,), now=T0, near_window=timedelta(hours=1))
    assert import_limit_at(event, T0, 11.0) == pytest.approx(7.0)


def test_a_delta_is_relative_to_the_reported_baseline_of_each_interval():
    event = _event("LOAD_DISPATCH", "delta", [-3.0, -3.0])
    assert requested_by_slot(event, {T0: 11.0, T0 + Q: 8.0}) == {T0: pytest.approx(3.0), T0 + Q: pytest.approx(3.0)}


def test_intervals_without_baseline_or_limit_have_no_requested_value():
    limit = _event("x-IMPORT_CAPACITY_LIMIT", "setpoint", [7.0])
    assert requested_by_slot(limit, {T0: None}) == {T0: None}
    assert requested_by_slot(limit, {T0 + timedelta(minutes=5): 11.0}) == {T0 + timedelta(minutes=5): None}  # off the grid
    assert import_limit_at(limit, T0 + Q, 11.0) is None  # after the event
    price = _event("ELECTRICITY_PRICE", "price", [0.3])
    assert requested_by_slot(price, {T0: 11.0}) == {T0: None}


def test_a_simple_level_and_a_capacity_share_ask_against_the_baseline_not_the_contract():
    simple = _event("SIMPLE", "level", [2.0])  # level 2 (ORANGE): half the baseline's load shed, whatever the contract
    assert requested_by_slot(simple, {T0: 11.0}) == {T0: pytest.approx(5.5)}
    assert requested_by_slot(simple, {T0: 11.0}, contracted_kw=36.0) == {T0: pytest.approx(5.5)}
    share = _event("LOAD_CONTROL", "x-loadControlCapacity", [0.25])  # a quarter of the baseline's load left
    assert requested_by_slot(share, {T0: 11.0}, contracted_kw=12.0) == {T0: pytest.approx(8.25)}
    above = _event("x-IMPORT_CAPACITY_LIMIT", "setpoint", [50.0])  # capped at the contract, still above the baseline
    assert requested_by_slot(above, {T0: 11.0}, contracted_kw=12.0) == {T0: 0.0}


def test_the_sites_file_gives_each_ven_its_contract(tmp_path):
    sites = tmp_path / "sites.toml"
    sites.write_text(
        '[[sites]]\nname = "a"\ncontracted_kva = 36\n[[sites]]\nname = "b"\nven_name = "ven-b"\n'
        '[[sites]]\nname = "c"\ncontracted_kva = "lots"\n'
    )
    assert contracted_kw_by_ven(sites) == {"a": 36.0, "ven-b": DEFAULT_CONTRACTED_KVA}
    assert contracted_kw_by_ven(tmp_path / "absent.toml") == {}


@given(st.floats(0, 1000), st.floats(0, 1000))
def test_requested_is_never_negative(baseline, limit):
    event = _event("x-IMPORT_CAPACITY_LIMIT", "setpoint", [limit])
    got = requested_by_slot(event, {T0: baseline})[T0]
    assert got is not None and got >= 0 and math.isclose(got, max(0.0, baseline - limit), abs_tol=1e-9)


def test_csv_cells_a_spreadsheet_would_run_are_quoted_and_download_names_are_tame():
    assert safe_values(['=HYPERLINK("x")', "+1", "-2", "@a", "site-01", -3.5, None]) == [
        '\'=HYPERLINK("x")',
        "'+1",
        "'-2",
        "'@a",
        "site-01",
        -3.5,
        None,
    ]
    assert attachment('evt"; filename=x.exe\r\n') == 'attachment; filename="evt___filename_x.exe__.csv"'

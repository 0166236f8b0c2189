"""mapping.flexready: data items and orders → per-site OpenADR event plans (pure), acknowledgements."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mapping import grid
from mapping.curtailment import Sample, resample
from mapping.flexready import clock, units
from mapping.flexready.acks import Response, site_ack
from mapping.flexready.measurements import slot_means
from mapping.flexready.notices import changes, snapshot
from mapping.flexready.orders import parse_order
from mapping.flexready.series import parse_series
from mapping.flexready.sites import Portfolio, Site
from mapping.precedence import MARKET_HIGHEST
from mapping.refusal import Refused

Q = timedelta(minutes=15)
PORTFOLIO = Portfolio(
    sites={"a": Site("a", 36.0), "b": Site("b", 12.0), "c": Site("c", 9.0, "co2")},
    groups={"ab": ("a", "b")},
    power_factor=1.0,
)
T0 = "2026-12-01T22:00:00Z"
T1 = "2026-12-01T23:00:00Z"


def order(**changes):
    body = {"client_order_id": "o-1", "site": "a", "start": T0, "end": T1, "direction": "down", "power_kw": 20, "mode": "limit"}
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


def series(**changes):
    body = {"series_id": "s-1", "site": "a", "item": "price", "unit": "EUR/kWh", "start": T0, "values": [0.1, 0.2]}
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


def refused_field(fn, *args) -> str:
    with pytest.raises(Refused) as caught:
        fn(*args)
    return caught.value.field


def test_a_downward_limit_becomes_an_import_cap_for_every_quarter_of_the_window():
    parsed = parse_order(order(), PORTFOLIO)
    (plan,) = parsed.plans
    assert (plan.site, plan.signal_name, plan.signal_type) == ("a", "x-IMPORT_CAPACITY_LIMIT", "setpoint")
    assert plan.values == (20.0,) * 4 and plan.step == Q and plan.start == datetime(2026, 12, 1, 22, tzinfo=UTC)
    assert plan.unit.kind == "powerReal" and plan.unit.scale == "k" and plan.priority == MARKET_HIGHEST  # below the grid band


def test_deltas_carry_the_direction_as_the_sign_of_load_dispatch():
    down = parse_order(order(mode="delta", power_kw=5), PORTFOLIO).plans[0]
    up = parse_order(order(mode="delta", direction="up", power_kw=5), PORTFOLIO).plans[0]
    assert (down.signal_name, down.signal_type, down.values[0]) == ("LOAD_DISPATCH", "delta", -5.0)
    assert up.values[0] == 5.0


def test_a_group_order_is_shared_in_proportion_to_subscribed_power():
    parsed = parse_order(order(site=None, group="ab", power_kw=24), PORTFOLIO)
    assert {p.site: p.values[0] for p in parsed.plans} == {"a": 18.0, "b": 6.0}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"site": "nowhere"}, "site"),
        ({"site": None}, "site"),
        ({"group": "ab"}, "site"),
        ({"site": None, "group": "none"}, "group"),
        ({"start": "2026-12-01T22:05:00Z"}, "start"),
        ({"end": "2026-12-01T22:00:00+00:00"}, "end"),
        ({"end": "2026-12-01T21:45:00Z"}, "end"),
        ({"start": "2026-12-01T22:00:00"}, "start"),
        ({"power_kw": 37}, "power_kw"),
        ({"power_kw": -1}, "power_kw"),
        ({"power_kw": None, "power": 5, "unit": "hp"}, "unit"),
        ({"power_kw": None, "power": 37000, "unit": "W"}, "power"),
        ({"direction": "sideways"}, "direction"),
        ({"mode": "limit", "direction": "up"}, "mode"),
        ({"client_order_id": "has space"}, "client_order_id"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_orders_are_refused_naming_the_field(changes, field):
    assert refused_field(parse_order, order(**changes), PORTFOLIO) == field


def test_a_group_limit_above_the_sum_of_subscriptions_is_refused():
    assert refused_field(parse_order, order(site=None, group="ab", power_kw=49), PORTFOLIO) == "power_kw"
    assert len(parse_order(order(site=None, group="ab", power_kw=48), PORTFOLIO).plans) == 2


def test_series_map_to_the_documented_signals_and_units():
    price = parse_series(series(unit="EUR/MWh", values=[100, 250]), PORTFOLIO).plans[0]
    assert (price.signal_name, price.signal_type, price.unit.kind) == ("ELECTRICITY_PRICE", "price", "currencyPerKWh")
    assert price.values == (pytest.approx(0.1), pytest.approx(0.25))
    carbon = parse_series(series(item="carbon", unit="gCO2e/kWh", values=[450]), PORTFOLIO).plans[0]
    assert (carbon.signal_name, carbon.unit.units, carbon.values) == ("x-CARBON_INTENSITY", "kgCO2e/kWh", (0.45,))
    cap = parse_series(series(item="max_power", unit="kW", values=[30, 36], step_minutes=30), PORTFOLIO).plans[0]
    assert (cap.signal_name, cap.step, cap.values) == ("x-IMPORT_CAPACITY_LIMIT", 2 * Q, (30.0, 36.0))


def test_a_co2_site_receives_carbon_as_its_price_and_refuses_prices():
    plan = parse_series(series(site="c", item="carbon", unit="kgCO2e/kWh", values=[0.6]), PORTFOLIO).plans[0]
    assert (plan.signal_name, plan.signal_type, plan.values) == ("ELECTRICITY_PRICE", "price", (0.6,))
    assert refused_field(parse_series, series(site="c"), PORTFOLIO) == "item"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"item": "max_power", "unit": "kW", "values": [10, 37]}, "values[1]"),
        ({"unit": "USD/kWh"}, "unit"),
        ({"values": []}, "values"),
        ({"values": [0.1, "x"]}, "values[1]"),
        ({"step_minutes": 10}, "step_minutes"),
        ({"start": "2026-12-01T22:10:00Z"}, "start"),
        ({"item": "gas"}, "item"),
        ({"values": [0.1] * 673}, "values"),
        ({"start": "1990-01-01T00:00:00Z"}, "start"),
    ],
)
def test_bad_series_are_refused_naming_the_field(changes, field):
    assert refused_field(parse_series, series(**changes), PORTFOLIO) == field


moments = st.datetimes(min_value=datetime(2001, 1, 1), max_value=datetime(2098, 12, 31), timezones=st.just(UTC))


@given(moments)
def test_only_quarter_hour_instants_are_on_the_clock(moment):
    on_grid = moment.minute % 15 == 0 and moment.second == 0 and moment.microsecond == 0
    text = moment.isoformat()
    if on_grid:
        assert clock.grid_time(text, "start") == moment
    else:
        with pytest.raises(Refused):
            clock.grid_time(text, "start")


@given(moments, st.integers(1, clock.MAX_SLOTS), st.sampled_from(["+00:00", "-04:00", "+05:30"]))
def test_a_window_on_the_grid_in_any_offset_gives_its_slots_in_utc(moment, slots, offset):
    start = moment.replace(minute=moment.minute - moment.minute % 15, second=0, microsecond=0)
    end = start + slots * Q
    zone = datetime.strptime(offset, "%z").tzinfo
    got_start, got_slots = clock.window(start.astimezone(zone).isoformat(), end.astimezone(zone).isoformat())
    assert (got_start, got_slots) == (start, slots) and got_start.tzinfo == UTC
    assert all((s - start) % Q == timedelta(0) for s in grid.slot_starts(got_start, got_slots))


@given(st.floats(0, 1e5, allow_nan=False), st.sampled_from(["W", "kW", "MW"]))
def test_power_in_any_unit_round_trips_through_kw(value, unit):
    kw = units.to_canonical("power", value, unit)
    assert kw / units.unit_factor("power", unit) == pytest.approx(value, rel=1e-12, abs=1e-12)
    assert units.to_canonical("power", value * 1000, "W") == pytest.approx(value)


@given(st.floats(0, 1000, allow_nan=False))
def test_per_mwh_and_per_gram_units_are_a_thousandth(value):
    assert units.to_canonical("price", value, "EUR/MWh") == pytest.approx(value / 1000)
    assert units.to_canonical("carbon", value, "gCO2e/kWh") == pytest.approx(value / 1000)
    assert units.to_canonical("carbon", value, "tCO2e/MWh") == pytest.approx(value)


@given(st.floats(0, 48, allow_nan=False))
def test_group_shares_add_up_and_stay_under_each_subscription(total):
    parsed = parse_order(order(site=None, group="ab", power_kw=total), PORTFOLIO)
    shares = {p.site: p.values[0] for p in parsed.plans}
    assert sum(shares.values()) == pytest.approx(total, abs=1e-5)
    assert all(shares[s] <= PORTFOLIO.max_kw(s) + 1e-5 for s in shares)


def test_acks_follow_the_latest_answer_and_refusals_carry_their_reason():
    assert site_ack(None, []).state == "pending"
    assert site_ack("the site's VEN has not registered", []).reason == "the site's VEN has not registered"
    assert site_ack(None, [Response(0, "optIn", 200, "OK")]).state == "accepted"
    out = site_ack(None, [Response(0, "optIn", 200, "OK"), Response(1, "optOut", 200, "too low")])
    assert (out.state, out.reason, out.modification_number) == ("refused", "too low", 1)
    assert site_ack(None, [Response(0, "optOut", 460, "signal x is not supported")]).reason.startswith("code 460")
    assert site_ack(None, [Response(0, "optOut", 200, "OK")]).reason == "the site's VEN opted out"
    modified = site_ack(None, [Response(0, "optIn", 200, "OK")], modification_number=1)
    assert (modified.state, modified.modification_number) == ("pending", 0)
    both = [Response(0, "optIn", 200, "OK"), Response(1, "optIn", 200, "OK")]
    assert site_ack(None, both, modification_number=1).state == "accepted"
    assert site_ack(None, [Response(0, "optIn", 200, "OK")], opted_out="x-schedule").state == "refused"


@given(st.lists(st.tuples(st.integers(-30, 120), st.floats(-50, 50, allow_nan=False)), max_size=60))
def test_slot_means_put_every_reading_in_its_quarter_and_nowhere_else(readings):
    start = datetime(2026, 12, 1, 22, tzinfo=UTC)
    timed = [(start + timedelta(minutes=minute), kw) for minute, kw in readings]
    means = slot_means(timed, start, 4)
    assert [m.start for m in means] == list(grid.slot_starts(start, 4))
    assert sum(m.samples for m in means) == sum(1 for minute, _ in readings if 0 <= minute < 60)
    for n, mean in enumerate(means):
        inside = [kw for minute, kw in readings if 15 * n <= minute < 15 * (n + 1)]
        assert mean.samples == len(inside)
        if inside:
            assert min(inside) <= mean.mean_kw <= max(inside)  # a mean of the slot's readings, none from outside
        else:
            assert mean.mean_kw is None


@given(st.lists(st.tuples(st.integers(-30 * 60, 120 * 60), st.floats(-50, 50, allow_nan=False)), max_size=60))
def test_the_aggregator_shows_the_mean_the_ven_computes(readings):
    """One 15-minute mean: the aggregator API's slot mean of any readings is the VEN's (`resample`, its defaults)."""
    start = datetime(2026, 12, 1, 22, tzinfo=UTC)
    timed = [(start + timedelta(seconds=second), kw) for second, kw in readings]
    ven = resample([Sample(at, kw) for at, kw in timed], start, start + 4 * Q, max_hold=timedelta(minutes=5))
    assert [(m.start, m.mean_kw, m.samples) for m in slot_means(timed, start, 4)] == [(v.start, v.kw, v.samples) for v in ven]


def test_slot_means_weigh_each_reading_by_the_time_it_stands_for():
    """10 kW read at :00, :05 and :10, then 20 kW at :14:00, :14:20, :14:40: the site drew 10 kW for 14 minutes
    and 20 kW for one — 10.67 kW, not the 15 kW a plain average of the six readings would say."""
    start = datetime(2026, 12, 1, 22, tzinfo=UTC)
    seconds = [(0, 10.0), (300, 10.0), (600, 10.0), (840, 20.0), (860, 20.0), (880, 20.0)]
    [mean] = slot_means([(start + timedelta(seconds=s), kw) for s, kw in seconds], start, 1)
    assert (mean.mean_kw, mean.samples) == (pytest.approx((10 * 14 + 20) / 15), 6)


def test_slot_means_refuse_a_start_off_the_grid():
    with pytest.raises(Refused, match="start"):
        slot_means([], datetime(2026, 12, 1, 22, 5, tzinfo=UTC), 1)


def _view(status: str, measurements: dict | None) -> dict:
    ack = {"state": "accepted", "modification_number": 0, "reason": None}
    return {"status": status, "sites": [{"site": "s", "ack": ack, "measurements": measurements}]}


def test_the_measurements_notification_waits_for_the_delivered_figures():
    """The VTN's own metering may arrive before any baseline (the VEN's claim comes with its x-ACHIEVED_CURTAILMENT):
    measured without achieved is not yet worth telling the subscriber."""
    metered = {"state": "reported", "intervals": [{"measured_kw": 5.9, "baseline_kw": None, "achieved_kw": None}]}
    settled_figures = {"state": "reported", "intervals": [{"measured_kw": 5.9, "baseline_kw": 8.2, "achieved_kw": 2.3}]}
    ended = snapshot(_view("completed", {"state": "awaiting reports", "intervals": []}))
    assert changes(ended, snapshot(_view("completed", metered))) == []
    assert changes(ended, snapshot(_view("completed", settled_figures))) == [("order.measurements", {"site": "s"})]


def test_an_interval_the_meter_missed_does_not_hold_back_the_measurements_notification():
    """A quarter hour without meter data never gets an achieved figure: the subscriber is told of the others (the
    gap is in the figures it reads), but not while a metered interval still waits for its baseline."""
    gap = {"measured_kw": None, "baseline_kw": 8.2, "achieved_kw": None}
    waiting = {"measured_kw": 5.9, "baseline_kw": None, "achieved_kw": None}
    done = {"measured_kw": 5.9, "baseline_kw": 8.2, "achieved_kw": 2.3}
    ended = snapshot(_view("completed", {"state": "awaiting reports", "intervals": []}))
    with_gap = {"state": "reported", "intervals": [done, gap]}
    assert changes(ended, snapshot(_view("completed", with_gap))) == [("order.measurements", {"site": "s"})]
    assert changes(ended, snapshot(_view("completed", {"state": "reported", "intervals": [gap, waiting]}))) == []
    assert changes(ended, snapshot(_view("completed", {"state": "reported", "intervals": [gap, gap]}))) == []

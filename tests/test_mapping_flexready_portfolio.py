"""Pure pieces of portfolios and of issue 23's item 5: the permission filter (`Scope`), ending an event
at an instant (`cut_signals`), an up order's figures (delivered = consumption above the baseline) and
flexibility offers."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from mapping.flexready.ending import cut_signals
from mapping.flexready.offers import OfferExceeded, SiteFacts, check, group_offer, reported_soc, shares, site_offer
from mapping.flexready.scope import Holding, Scope
from mapping.flexready.sites import Portfolio, Site
from mapping.flexready.upward import up_intervals, up_ratio
from mapping.oadr import model as m

T0 = datetime(2026, 12, 7, 18, 0, tzinfo=UTC)
Q = timedelta(minutes=15)


def test_a_scope_holds_a_site_only_over_its_holdings():
    scope = Scope.of("agg-1", [Holding("agg-1", "a", T0, T0 + 4 * Q), Holding("agg-2", "b", T0), Holding("agg-1", "c", T0 + Q)])
    assert scope.sites_at(T0) == {"a"} and scope.sites_at(T0 + 2 * Q) == {"a", "c"} and scope.sites_at(T0 + 4 * Q) == {"c"}
    assert scope.covers("a", T0, T0 + 4 * Q) and not scope.covers("a", T0, T0 + 5 * Q) and not scope.covers("b", T0, T0 + Q)
    assert scope.held_over("a", T0 + 3 * Q, T0 + 9 * Q) and not scope.held_over("a", T0 + 4 * Q, T0 + 5 * Q)
    portfolio = Portfolio({n: Site(n, 9.0) for n in "abc"}, groups={"ab": ("a", "b"), "b": ("b",)})
    held = scope.restrict(portfolio, T0)
    assert set(held.sites) == {"a"} and held.groups == {"ab": ("a",)}


def _event(values: list[float]) -> m.Event:
    intervals = tuple(m.Interval(Q, v, i) for i, v in enumerate(values))
    signal = m.Signal("LOAD_DISPATCH", "delta", "s", intervals)
    return m.Event("e", 0, "ctx", T0, "far", T0, len(values) * Q, (signal,))


def test_an_event_is_cut_at_an_instant():
    cut = cut_signals(_event([1, 2, 3, 4]), T0 + 2 * Q)
    assert cut is not None and [i.value for i in cut[0].intervals] == [1, 2]
    half = cut_signals(_event([1, 2]), T0 + Q + timedelta(minutes=5))
    assert half is not None and [i.duration for i in half[0].intervals] == [Q, timedelta(minutes=5)]
    assert cut_signals(_event([1, 2]), T0) is None  # nothing before: cancel instead


def test_an_up_order_delivers_consumption_above_the_baseline():
    rows = [(T0, 10.0, 14.0, "nothing_requested"), (T0 + Q, 10.0, 11.0, "nothing_requested"), (T0 + 2 * Q, None, 9.0, "missing")]
    ups = up_intervals(rows, {T0: 4.0, T0 + Q: 4.0, T0 + 2 * Q: 4.0})
    assert [(u.requested_kw, u.delivered_kw, u.quality) for u in ups] == [
        (4.0, 4.0, "good"),
        (4.0, 1.0, "good"),
        (4.0, None, "missing"),
    ]
    assert up_ratio(ups) == 5.0 / 8.0
    assert up_ratio(up_intervals(rows, {})) is None


def test_offers_follow_the_device_the_metering_and_the_vens_availability():
    end = T0 + 4 * Q
    battery = SiteFacts("a", max_kw=9.0, device="battery", device_kw=5.0, capacity_kwh=10.0, current_kw=3.0)
    offer = site_offer(battery, T0, end)
    assert (offer.down.kw, offer.up.kw) == (3.0, 5.0)  # down: no more than it imports; up: headroom 6 kW
    assert offer.down.minutes == 60.0 and offer.up.minutes == 54.0  # 4.5 kWh at 5 kW
    evse = site_offer(SiteFacts("c", max_kw=9.0, device="evse", device_kw=7.0, current_kw=8.5), T0, end)
    assert (evse.down.kw, evse.up.kw) == (7.0, 0.5)
    away = SiteFacts("a", 9.0, "battery", 5.0, unavailable=((T0 + Q, None, "x-schedule"),))
    assert site_offer(away, T0, end).down.kw == 0.0
    unknown = site_offer(SiteFacts("u", 9.0), T0, end)
    assert unknown.down.kw is None and group_offer([offer, unknown]).down.kw is None
    pv = site_offer(SiteFacts("b", 9.0, "pv", 5.0), T0, end)
    assert shares(2.0, [offer, pv], "down") == {"a": 2.0, "b": 0.0} and shares(2.0, [offer, unknown], "down") is None
    check(3.0, offer, "down", "power_kw")
    with pytest.raises(OfferExceeded) as refused:
        check(3.5, offer, "down", "power_kw")
    assert refused.value.field == "power_kw" and refused.value.offer is offer


def test_a_reported_state_of_charge_bounds_a_batterys_energy_each_way():
    """10 kWh, 10 % reserve, 5 kW: at 70 % it can give 6 kWh (72 minutes) and take 3 kWh (36 minutes); at its
    reserve it offers nothing down; without a report, half the usable energy each way (4.5 kWh)."""
    end = T0 + 8 * Q
    battery = SiteFacts("a", max_kw=9.0, device="battery", device_kw=5.0, capacity_kwh=10.0)  # no metering: 5 kW each way
    charged = site_offer(replace(battery, soc_percent=70.0), T0, end)
    assert (charged.down.kwh, charged.down.minutes, charged.up.kwh, charged.up.minutes) == (6.0, 72.0, 3.0, 36.0)
    assert "6 kWh down to the 10 % reserve, 3 kWh up to full (its VEN reported 70 %)" in charged.basis
    at_reserve = site_offer(replace(battery, soc_percent=10.0), T0, end)
    assert at_reserve.down.kw == 0.0 and at_reserve.up.kwh == 9.0
    assert site_offer(battery, T0, end).down.kwh == site_offer(battery, T0, end).up.kwh == 4.5
    # what our VEN puts in TELEMETRY_STATUS for its storage, as the VTN stores it
    assert reported_soc({"online": True, "load_control": {"capacity": {"min": 0, "max": 100, "current": 70}}}) == 70.0
    assert reported_soc({"online": True, "load_control": {}}) is None and reported_soc(None) is None

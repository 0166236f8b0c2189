"""mapping.flex.devices and mapping.flex.forecast: each device kind's model, EV sessions, what a site would
have done without an event."""

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from mapping.flex.devices import Device, flex_model, flexible_kw, missed_departures, sessions, start_soc_kwh, uncontrolled_kw
from mapping.grid import QUARTER

MQ = ZoneInfo("America/Martinique")
FDF = (14.6161, -61.0588)
#: 18:00 in Martinique
EVENING = datetime(2026, 11, 26, 22, 0, tzinfo=UTC)
BATTERY = Device("battery", 5.0, 10.0, reserve_percent=20.0)
EV = Device("evse", 7.0, 60.0, arrival=time(17, 0), departure=time(7, 0), arrival_soc_percent=30, departure_soc_percent=80)
V2G = Device("v2g", 11.0, 60.0, reserve_percent=40.0, arrival=time(17, 0), departure=time(7, 0))


def test_a_schedule_starts_from_the_measured_state_of_charge_else_half_full():
    assert start_soc_kwh(BATTERY, [], EVENING, 75.0) == 7.5
    assert start_soc_kwh(BATTERY, [], EVENING, None) == 5.0  # unknown: half full
    assert start_soc_kwh(BATTERY, [], EVENING, 130.0) == 10.0  # a bad reading is clamped
    noon = EVENING - timedelta(hours=6)
    # an EV that is not there yet starts from what it holds on arrival, whatever the charger last measured
    assert start_soc_kwh(EV, sessions(EV, noon, noon + timedelta(hours=24), MQ), noon, 95.0) == 18.0


def test_ev_sessions_run_overnight_and_uncontrolled_charging_stops_at_the_target():
    [tonight] = sessions(EV, EVENING, EVENING + timedelta(hours=6), MQ)
    assert tonight.arrival == datetime(2026, 11, 26, 17, 0, tzinfo=MQ)
    assert tonight.departure == datetime(2026, 11, 27, 7, 0, tzinfo=MQ)
    assert (tonight.arrival_kwh, tonight.target_kwh) == (18.0, 48.0)
    # 30 kWh needed at 7 kW: 4 h 17 min of full power from 17:00, then nothing
    assert uncontrolled_kw(EV, tonight, tonight.arrival) == 7.0
    assert uncontrolled_kw(EV, tonight, tonight.arrival + timedelta(hours=4)) == pytest.approx(7.0)
    assert uncontrolled_kw(EV, tonight, tonight.arrival + timedelta(hours=4, minutes=15)) == pytest.approx(1.0)  # 0.25 kWh left
    assert uncontrolled_kw(EV, tonight, tonight.arrival + timedelta(hours=4, minutes=30)) == 0.0
    assert uncontrolled_kw(EV, tonight, tonight.arrival - QUARTER) == 0.0


def test_what_each_kind_can_take_off_the_import():
    [tonight] = sessions(V2G, EVENING, EVENING + QUARTER, MQ)
    assert flexible_kw(BATTERY, [], 2.0, EVENING) == 2.0  # covers the household, never exports
    assert flexible_kw(BATTERY, [], 8.0, EVENING) == 5.0  # at most its power
    # a V2G car that comes back above its mobility reserve stops charging and covers the house; one that comes
    # back under it (30 % < 40 %) only stops charging: covering would need the charging the alert forbids
    full = replace(V2G, arrival_soc_percent=60.0)
    [full_tonight] = sessions(full, EVENING, EVENING + QUARTER, MQ)
    charging = uncontrolled_kw(full, full_tonight, EVENING)  # 12 kWh needed from 17:00: 1 kWh left at 18:00
    assert charging == pytest.approx(4.0) and flexible_kw(full, [full_tonight], 2.0, EVENING) == pytest.approx(charging + 2.0)
    assert flexible_kw(V2G, [tonight], 2.0, EVENING) == pytest.approx(11.0)
    # a stay under way when the plan starts counts what the car holds then (unknown: half full, above 40 %)
    assert flexible_kw(V2G, [tonight], 2.0, EVENING, plan_start=EVENING) == pytest.approx(11.0 + 2.0)
    assert flexible_kw(Device("pv", 5.0, peak_kw=5.0), [], 2.0, EVENING) == 0.0


def test_the_ev_flex_model_charges_only_while_plugged_in_and_needs_its_target_at_departure():
    noon = EVENING - timedelta(hours=6)
    model = flex_model(EV, 7, noon, noon + timedelta(hours=24), None, MQ)
    first, second = model["consumption-capacity"][:2]
    assert (first["value"], first["duration"]) == ("0 kW", "PT5H")  # 12:00–17:00: not there
    assert second["value"] == "7 kW"
    assert model["production-capacity"] == "0 kW"  # a one-way charger
    assert model["soc-minima"] == [{"datetime": "2026-11-27T11:00:00Z", "value": "48 kWh"}]
    assert model["soc-at-start"] == "18 kWh"


def test_a_v2g_car_never_goes_below_its_mobility_reserve_and_pv_is_curtailable():
    model = flex_model(V2G, 8, EVENING, EVENING + timedelta(hours=4), 50.0, MQ)
    assert model["soc-min"] == "24 kWh"  # 40 % of 60 kWh
    assert model["production-capacity"][0]["value"] == "11 kW"
    low = flex_model(V2G, 8, EVENING, EVENING + timedelta(hours=4), 20.0, MQ)
    assert low["soc-min"] == "12 kWh"  # arriving below its reserve, it may not go lower than it came
    pv = flex_model(Device("pv", 5.0, peak_kw=5.0), 9, EVENING - timedelta(hours=8), EVENING, None, MQ, lambda _slot: 3.0)
    assert pv["consumption-capacity"] == "0 kW"
    assert pv["production-capacity"] == [{"start": "2026-11-26T14:00:00Z", "duration": "PT8H", "value": "3 kW"}]


def test_a_departure_short_of_its_target_is_found():
    start = datetime(2026, 11, 27, 5, 0, tzinfo=MQ)  # two hours before the 07:00 departure, 50 % charged
    assert missed_departures(EV, 50.0, [0.0] * 8, start, MQ) == [(datetime(2026, 11, 27, 7, 0, tzinfo=MQ), 30.0, 48.0)]
    # three hours at 7 kW: 21 kWh, 20.5 kWh stored (charging at √0.9) — enough
    earlier = start - timedelta(hours=1)
    assert missed_departures(EV, 50.0, [7.0] * 12, earlier, MQ) == []
    assert missed_departures(BATTERY, 50.0, [0.0] * 8, start, MQ) == []  # a battery has no departure


def test_the_forecast_is_the_household_on_its_evening_peak_plus_what_the_device_would_do():
    from mapping.flex.forecast import household_kw, site_forecast

    assert household_kw(1.5, datetime(2026, 11, 26, 19, 0, tzinfo=MQ)) == pytest.approx(1.5 * 2.3)  # the evening peak
    forecast = site_forecast(EV, 1.5, EVENING, EVENING + QUARTER, MQ, FDF)
    house = household_kw(1.5, (EVENING + QUARTER / 2).astimezone(MQ))
    assert forecast.expected(EVENING, EVENING + QUARTER) == pytest.approx(house + 7.0)  # charging since 17:00
    assert forecast.flexible(EVENING, EVENING + QUARTER) == pytest.approx(7.0)  # it can stop; it cannot cover the house
    pv = site_forecast(Device("pv", 5.0, peak_kw=5.0), 1.5, EVENING - timedelta(hours=8), EVENING - timedelta(hours=7), MQ, FDF)
    assert pv.expected(EVENING - timedelta(hours=8), EVENING - timedelta(hours=7)) < 0  # 10:00: it exports


def test_an_ev_drives_between_its_sessions_and_comes_back_with_what_it_holds_on_arrival():
    night = datetime(2026, 11, 27, 2, 0, tzinfo=MQ)  # plugged in since 17:00, leaves at 07:00, back at 17:00
    model = flex_model(EV, 7, night, night + timedelta(hours=24), 50.0, MQ)
    [usage] = model["soc-usage"]
    away = [s for s in usage if s["value"] != "0 kW"]
    assert [(s["start"], s["duration"]) for s in away] == [("2026-11-27T11:00:00Z", "PT10H")]
    assert float(away[0]["value"].split()[0]) == pytest.approx((48.0 - 18.0) / 10)  # 48 kWh at 07:00 → 18 kWh at 17:00

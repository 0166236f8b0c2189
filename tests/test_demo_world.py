"""The demo's pure parts: the simulated sites (demo/world.py, demo/simulator.step) and when the alert
falls (demo/scenario.py)."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from demo.scenario import compressed_duration, plan, ven_time_zone
from demo.simulator import new_site, step
from demo.world import MARTINIQUE, Storage, ev_session, household_kw
from mapping.dispatch import new_setpoints
from mapping.settings import Table
from mapping.solar import pv_kw, solar_elevation_deg
from ven.config import SiteConfig
from ven.flex_config import parse_flex

FORT_DE_FRANCE = (14.6161, -61.0588)


def _site(kind: str, **asset: float) -> SiteConfig:
    return SiteConfig(name=f"site-{kind}", ven_name=f"site-{kind}", latitude=14.6, longitude=-61.0, asset={"kind": kind, **asset})


def test_the_sun_is_high_at_noon_and_down_at_night_in_martinique() -> None:
    noon = datetime(2026, 11, 26, 12, 0, tzinfo=MARTINIQUE)  # solar noon is 11:51 local (61° W, equation of time +12 min)
    assert 53 < solar_elevation_deg(noon, *FORT_DE_FRANCE) < 56  # 90° − 14.6° latitude − 21° declination ≈ 54.4°
    assert solar_elevation_deg(datetime(2026, 11, 26, 22, 0, tzinfo=MARTINIQUE), *FORT_DE_FRANCE) < 0
    assert pv_kw(5.0, datetime(2026, 11, 26, 22, 0, tzinfo=MARTINIQUE), *FORT_DE_FRANCE) == 0.0
    assert 3.0 < pv_kw(5.0, noon, *FORT_DE_FRANCE) < 4.0


def test_households_peak_in_the_evening() -> None:
    day = datetime(2026, 11, 26, tzinfo=MARTINIQUE)
    night, evening = household_kw("s", 1.5, day.replace(hour=3)), household_kw("s", 1.5, day.replace(hour=19))
    assert evening > 3 * night
    assert household_kw("s", 1.5, day.replace(hour=19)) == household_kw("s", 1.5, day.replace(hour=19))  # deterministic


def test_an_ev_arrives_in_the_late_afternoon_and_leaves_in_the_morning() -> None:
    session = ev_session("site-21", datetime(2026, 11, 26, 12, 0, tzinfo=MARTINIQUE))
    assert session.arrival.hour == 16 or (session.arrival.hour == 17 and session.arrival.minute == 0)
    assert session.departure == datetime(2026, 11, 27, 7, 0, tzinfo=MARTINIQUE)
    assert 0.2 <= session.soc_on_arrival <= 0.4


def test_storage_follows_a_schedule_within_its_power_and_energy() -> None:
    battery = Storage(capacity_kwh=100, soc_kwh=50, charge_kw=50, discharge_kw=50, default_charge_kw=7)
    assert battery.power_for(None, 0.25) == 7  # no schedule: tops up
    assert battery.power_for(-80, 0.25) == -50  # a schedule beyond its power: capped
    assert battery.power_for(-50, 2.0) == -25  # not below empty over two hours
    full = Storage(capacity_kwh=100, soc_kwh=90, charge_kw=50, discharge_kw=50, default_charge_kw=7)
    assert full.power_for(None, 0.25) == 0  # already at the top-up target


def test_a_battery_without_a_schedule_idles_so_the_baseline_is_the_household() -> None:
    at = datetime(2026, 11, 26, 21, 0, tzinfo=UTC)  # 17:00 local, the hour before the evening peak
    site = new_site(_site("battery", power_kw=50.0, capacity_kwh=100.0))
    assert site.storage is not None and site.storage.power_for(None, 0.25) == 0.0
    meter = {topic: json.loads(body)["value"] for topic, body in step(site, at, 1 / 60, timedelta(0))}
    assert meter["cariflex/site-battery/battery/soc"] == 50.0  # nothing dispatched: it holds what it held


def test_a_scheduled_ev_stops_charging_and_the_meter_shows_it() -> None:
    at = datetime(2026, 11, 26, 22, 0, tzinfo=UTC)  # 18:00 local: the EV is plugged in
    site = new_site(_site("evse", power_kw=22.0))
    free = {topic: json.loads(body)["value"] for topic, body in step(site, at, 1 / 60, timedelta(0))}
    site.schedule = new_setpoints("site-evse", at, at, [0.0])
    held = {topic: json.loads(body)["value"] for topic, body in step(site, at, 1 / 60, timedelta(0))}
    assert free["cariflex/site-evse/meter/power"] - held["cariflex/site-evse/meter/power"] == pytest.approx(22.0, abs=0.2)
    assert "cariflex/site-evse/evse/soc" in held and "cariflex/site-evse/evse/power" not in held


def test_a_pv_site_publishes_its_production_as_negative_power() -> None:
    noon = datetime(2026, 11, 26, 16, 0, tzinfo=UTC)  # 12:00 local
    site = new_site(_site("pv", peak_kw=5.0))
    values = {topic: json.loads(body)["value"] for topic, body in step(site, noon, 1 / 60, timedelta(0))}
    assert values["cariflex/site-pv/pv/power"] < -3
    assert values["cariflex/site-pv/meter/power"] < 0  # exporting at noon


@pytest.mark.parametrize(("factor", "minutes"), [(16, 15), (8, 30), (1, 240), (100, 15)])
def test_the_evening_is_compressed_into_whole_quarter_hours(factor: int, minutes: int) -> None:
    assert compressed_duration(factor) == timedelta(minutes=minutes)


def test_a_fast_event_starts_in_this_quarter_hour_only_if_five_minutes_remain() -> None:
    early = plan(datetime(2026, 11, 26, 16, 3, tzinfo=UTC), fast=16)
    assert (early.start, early.end) == (datetime(2026, 11, 26, 16, 0, tzinfo=UTC), datetime(2026, 11, 26, 16, 15, tzinfo=UTC))
    late = plan(datetime(2026, 11, 26, 16, 12, tzinfo=UTC), fast=16)
    assert late.start == datetime(2026, 11, 26, 16, 15, tzinfo=UTC)
    assert (late.start + late.scenario_offset).astimezone(MARTINIQUE).strftime("%H:%M") == "18:00"
    assert late.alert() == {
        "alert_id": "cariflex-demo-20261126T1215",
        "date": "2026-11-26",
        "start": "12:15",
        "end": "12:30",
        "level": "RED",
    }


def test_without_fast_the_event_is_the_real_evening_peak() -> None:
    before = plan(datetime(2026, 11, 26, 15, 0, tzinfo=UTC), fast=None)  # 11:00 local
    assert before.start.astimezone(MARTINIQUE) == datetime(2026, 11, 26, 18, 0, tzinfo=MARTINIQUE)
    assert before.end - before.start == timedelta(hours=4) and before.scenario_offset == timedelta(0)
    after = plan(datetime(2026, 11, 26, 23, 0, tzinfo=UTC), fast=None)  # 19:00 local: tomorrow's
    assert after.start.astimezone(MARTINIQUE) == datetime(2026, 11, 27, 18, 0, tzinfo=MARTINIQUE)


def test_the_event_window_is_told_in_martinique_time_and_utc_with_the_wait() -> None:
    now = datetime(2026, 11, 26, 15, 48, 30, tzinfo=UTC)  # 11:48:30 local
    evening = plan(now, fast=None)
    assert evening.window(now) == "18:00–22:00 Martinique (22:00–02:00 UTC), starts in 6 h 12 min"
    assert evening.window(evening.start + timedelta(minutes=1)) == "18:00–22:00 Martinique (22:00–02:00 UTC), under way"
    late = datetime(2026, 11, 26, 23, 0, tzinfo=UTC)  # 19:00 local: tomorrow's evening
    assert plan(late, fast=None).window(late) == "Fri 27 Nov 18:00–22:00 Martinique (22:00–02:00 UTC), starts in 23 h 00 min"
    fast = plan(datetime(2026, 11, 26, 16, 3, tzinfo=UTC), fast=16)
    assert fast.window(datetime(2026, 11, 26, 16, 3, tzinfo=UTC)) == "12:00–12:15 Martinique (16:00–16:15 UTC), under way"


def test_the_vens_read_the_scenarios_time_through_their_time_zone():
    from datetime import UTC, timedelta

    from demo.scenario import plan

    now = datetime(2026, 11, 26, 14, 2, tzinfo=UTC)  # 10:02 in Martinique
    the_plan = plan(now, 16)
    zone = parse_flex(Table({"time_zone": ven_time_zone(the_plan.scenario_offset)}, "flex", {})).time_zone
    # at the alert's start the VENs' wall clock reads 18:00, the simulated evening's start
    assert the_plan.start.astimezone(zone).strftime("%H:%M") == "18:00"
    assert ven_time_zone(timedelta(0)) == "America/Martinique"

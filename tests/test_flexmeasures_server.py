"""The real FlexMeasures 1.0.1 server the VEN drives, through flexmeasures-client 0.9.6.

Not a test of FlexMeasures itself: it pins down the behaviour our FlexMeasures adapter relies on
(ids found, never assumed; posted data stored at once; a battery schedule from a trigger's
time-series flex-context; `force-new-job-creation` against the job cache), so that a FlexMeasures
or client upgrade that changes it fails here first.
"""

from __future__ import annotations

import pandas as pd
import pytest

from tests.support.flexmeasures import FlexMeasuresServer, flexmeasures  # noqa: F401  (session fixture)

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.external]  # a FlexMeasures server of its own

TZ = "America/Martinique"
STEP = pd.Timedelta("PT15M")
POWER_CAPACITY_KW = 25.0
SOC_AT_START_KWH, SOC_MIN_KWH, SOC_MAX_KWH = 50.0, 10.0, 100.0


async def find_or_create_battery(client, account_id: int, name: str) -> tuple[dict, dict]:
    """The battery asset called `name` and its power sensor, created when missing (ids looked up)."""
    battery_type = next(t["id"] for t in await client.get_asset_types() if t["name"] == "battery")
    asset = next((a for a in await client.get_assets(parse_json_fields=True) if a["name"] == name), None)
    if asset is None:
        asset = await client.add_asset(
            name=name, account_id=account_id, latitude=14.6415, longitude=-61.0242, generic_asset_type_id=battery_type
        )
    sensors = await client.get_sensors(asset_id=asset["id"], parse_json_fields=True)
    sensor = next((s for s in sensors if s["name"] == "power"), None)
    if sensor is None:
        sensor = await client.add_sensor(
            name="power", event_resolution="PT15M", unit="kW", generic_asset_id=asset["id"], timezone=TZ
        )
    return asset, sensor


def segment(day: pd.Timestamp, from_hour: int, to_hour: int, value: str) -> dict:
    return {
        "start": (day + pd.Timedelta(hours=from_hour)).isoformat(),
        "end": (day + pd.Timedelta(hours=to_hour)).isoformat(),
        "value": value,
    }


async def test_flexmeasures_data_round_trip_and_battery_schedule(flexmeasures: FlexMeasuresServer):  # noqa: F811
    client = flexmeasures.client()
    try:
        versions = await client.get_versions()
        assert versions["server_version"] == "1.0.1"

        account = await client.get_account()
        assert account is not None and account["id"] == flexmeasures.account_id
        asset, sensor = await find_or_create_battery(client, account["id"], "cfx-test battery")
        again, same_sensor = await find_or_create_battery(client, account["id"], "cfx-test battery")
        assert (again["id"], same_sensor["id"]) == (asset["id"], sensor["id"])  # found, not duplicated
        assert sensor["unit"] == "kW" and sensor["timezone"] == TZ

        # -- measurements: posted values are stored at once (no ingestion worker) and read back
        measured_from = pd.Timestamp.now(tz=TZ).floor("D") - pd.Timedelta(days=1)
        measured = [1.5, 2.5, -3.0, 4.0]
        await client.post_sensor_data(sensor["id"], start=measured_from, duration=STEP * 4, values=measured, unit="kW")
        read = await client.get_sensor_data(sensor["id"], start=measured_from, duration=STEP * 4, unit="kW", resolution=STEP)
        assert read["values"] == measured
        in_watts = await client.get_sensor_data(sensor["id"], start=measured_from, duration=STEP * 4, unit="W", resolution=STEP)
        assert in_watts["values"] == [v * 1000 for v in measured]

        # -- a battery schedule for tomorrow (Martinique), prices as time-series segments in the trigger
        day = pd.Timestamp.now(tz=TZ).floor("D") + pd.Timedelta(days=1)
        prices = [
            segment(day, 0, 6, "50 EUR/MWh"),
            segment(day, 6, 18, "100 EUR/MWh"),
            segment(day, 18, 22, "300 EUR/MWh"),  # the evening peak
            segment(day, 22, 24, "80 EUR/MWh"),
        ]
        trigger = {
            "start": day.isoformat(),
            "duration": "PT24H",
            "flex-model": [
                {
                    "sensor": sensor["id"],
                    "soc-at-start": f"{SOC_AT_START_KWH} kWh",
                    "soc-min": f"{SOC_MIN_KWH} kWh",
                    "soc-max": f"{SOC_MAX_KWH} kWh",
                    "power-capacity": f"{POWER_CAPACITY_KW} kW",
                }
            ],
            "flex-context": {"consumption-price": prices, "production-price": prices},
            "force-new-job-creation": True,
        }
        uri = f"assets/{asset['id']}/schedules/trigger"
        response, status = await client.request(uri, json_payload=trigger)
        assert status == 202, response
        job = response["job"]
        finished = await client.wait_for_job(job, timeout=120)
        assert finished["status"] == "FINISHED"

        schedule = await client.get_schedule(sensor["id"], job, duration="PT24H", unit="kW")
        values = schedule["values"]
        assert pd.Timestamp(schedule["start"]) == day
        assert len(values) == 96
        assert all(abs(v) <= POWER_CAPACITY_KW + 1e-6 for v in values)
        soc = SOC_AT_START_KWH
        for v in values:  # positive = charging (consumption)
            soc += v * STEP / pd.Timedelta(hours=1)
            assert SOC_MIN_KWH - 1e-6 <= soc <= SOC_MAX_KWH + 1e-6
        night, peak = values[0:24], values[72:88]
        assert sum(v for v in night if v > 0) > 0, "charges while power is cheap"
        assert sum(v for v in peak if v < 0) < 0, "discharges in the evening peak"

        # -- the job cache trap: an identical trigger within FLEXMEASURES_JOB_CACHE_TTL gets the cached
        # job back (even if data changed since); force-new-job-creation gets a new one.
        unforced = {k: v for k, v in trigger.items() if k != "force-new-job-creation"}
        cached, _ = await client.request(uri, json_payload=unforced)
        assert cached["job"] == job
        forced, _ = await client.request(uri, json_payload=trigger)
        assert forced["job"] != job
        await client.wait_for_job(forced["job"], timeout=120)
        again_schedule = await client.get_schedule(sensor["id"], forced["job"], duration="PT24H", unit="kW")
        assert len(again_schedule["values"]) == 96
    finally:
        await client.close()

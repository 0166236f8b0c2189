"""Interop: openleadr's own OpenADRClient registers its reports with our VTN, gets the configured
telemetry request piggy-backed on oadrRegisteredReport, and sends TELEMETRY_USAGE we store."""

import asyncio
from datetime import timedelta

from openleadr import OpenADRClient

from tests.support.vtn_harness import config_for_tests, running_vtn
from vtn.config import AutoReport
from vtn.store import report_repository as reports


async def test_openleadr_client_reports_telemetry_to_our_vtn(sqlite_url):
    config = config_for_tests(
        sqlite_url,
        poll_interval=timedelta(seconds=1),
        auto_reports=(AutoReport("TELEMETRY_USAGE", timedelta(seconds=1), timedelta(seconds=1)),),
    )
    async with running_vtn(config) as vtn:
        client = OpenADRClient(ven_name="openleadr-ven", vtn_url=f"{vtn.base_url}/OpenADR2/Simple/2.0b")
        readings = iter(range(1000))

        async def read_power() -> float:
            return 10.0 + next(readings)

        client.add_report(
            callback=read_power,
            resource_id="meter-1",
            measurement="REAL_POWER",
            sampling_rate=timedelta(seconds=1),
            report_specifier_id="ol-usage",
            r_id="ol-power",
        )
        await client.run()
        try:
            points: list[dict] = []
            for _ in range(100):  # up to 20 s, ends as soon as data arrives
                points = await vtn.ctx.store.call(reports.points, report_name="TELEMETRY_USAGE")
                if len(points) >= 2:
                    break
                await asyncio.sleep(0.2)
        finally:
            await client.stop()
        ven_id = client.ven_id
        described = await vtn.ctx.store.call(reports.descriptions, ven_id)
    assert [(spec, d.r_id, d.unit.kind if d.unit else None) for spec, _n, d in described] == [
        ("ol-usage", "ol-power", "powerReal")
    ]
    assert len(points) >= 2, "openleadr's client sent no telemetry"
    assert {p["r_id"] for p in points} == {"ol-power"} and {p["ven_id"] for p in points} == {ven_id}
    assert all(p["value"] >= 10.0 for p in points)

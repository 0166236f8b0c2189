"""Interop (review issue 22): our VEN's periodic TELEMETRY_USAGE reaches a stock openleadr 0.5.x `OpenADRServer`.

Such a VTN asks for reports without a reportInterval (optional in the schema), answers HTTP 500 to an interval
with two payloads and to oadrPayloadResourceStatus — hence the VEN's `[reports] profile = "openleadr"`."""

from dataclasses import replace
from datetime import timedelta

import pytest
from openleadr import OpenADRServer

from mapping.oadr.report_profile import ReportProfile
from tests.support.eventually import eventually
from tests.support.mqtt import free_port
from tests.support.ven_harness import running_ven, ven_config

pytestmark = pytest.mark.slow  # reports every second for a few seconds, in real time


async def _received_usage(tmp_path, wanted: set[str] | None, profile: ReportProfile) -> dict[str, list]:
    """Run our VEN against a stock openleadr VTN that requests the offered rIDs in `wanted` (None: every rID
    it is offered, status too); the values its report callbacks received, per rID."""
    port = free_port()
    server = OpenADRServer(vtn_id="OL-VTN", http_host="127.0.0.1", http_port=port, requested_poll_freq=timedelta(seconds=1))
    received: dict[str, list] = {}

    async def on_create_party_registration(info: dict) -> tuple[str, str]:
        return "ol-ven-1", "ol-reg-1"

    async def on_register_report(report: dict) -> list[tuple]:  # openleadr's "full" handler: one report at a time
        def on_data_of(r_id: str):  # noqa: ANN202
            async def on_data(data: list) -> None:
                received.setdefault(r_id, []).extend(value for _at, value in data)

            return on_data

        offered = [d["r_id"] for d in report["report_descriptions"]]
        # granularity and reportBackDuration 1 s, no reportInterval
        return [(r_id, on_data_of(r_id), timedelta(seconds=1)) for r_id in offered if wanted is None or r_id in wanted]

    server.add_handler("on_create_party_registration", on_create_party_registration)
    server.add_handler("on_register_report", on_register_report)
    await server.run()
    try:
        config = ven_config(f"http://127.0.0.1:{port}/OpenADR2/Simple/2.0b", tmp_path / "ven.db", "site-ol", vtn_id="OL-VTN")
        config = replace(config, report_profile=profile)
        async with running_ven(config):
            await eventually(lambda: sum(map(len, received.values())) >= 4, timeout=20, what="openleadr to receive reports")
    finally:
        await server.stop()
    return received


async def test_periodic_reports_without_a_report_interval_are_sent(tmp_path):
    """One rID asked for (one payload per interval): nothing but the missing reportInterval stands in the way."""
    received = await _received_usage(tmp_path, {"site-power"}, ReportProfile.STANDARD)
    assert set(received) == {"site-power"} and set(received["site-power"]) == {1.5}  # the configured base load


async def test_the_openleadr_profile_gets_every_requested_report_through(tmp_path):
    """Everything offered is asked for (site and asset power, status): with the profile the VTN takes each report."""
    received = await _received_usage(tmp_path, None, ReportProfile.OPENLEADR)
    both = {"site-power", "asset-power"}
    assert both <= set(received), received
    assert set(received["site-power"]) == {1.5} and set(received["asset-power"]) == {0.0}
    assert "status" not in received  # resource status is not offered to such a VTN

"""The site's planned net power, end to end: the VEN's plans (its dispatch ledger) → the fourth rID of its
x-ACHIEVED_CURTAILMENT report (`curtailment-planned`) → our VTN's store → the curtailment JSON and the event page,
planned beside measured per interval and summed.

Meter samples go over the real Mosquitto; the VTN runs in-process. The event is back-dated (its quarter hours are
over when the test starts) and so are the plans: FlexMeasures, which makes them in the product, is not run here —
they are handed to the ledger as VenProcess._dispatch hands FlexMeasures' (tests/test_dispatch_tracking.py covers
that hand-off).
"""

import json
import re
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from mapping.grid import floor_slot
from tests.support.eventually import eventually
from tests.support.mqtt import BROKER_PORT, ensure_machine_broker, payload, publish
from tests.support.ui import add_user, login
from tests.support.ven_harness import ven_config
from tests.support.vtn_harness import VtnUnderTest, config_for_tests, running_vtn
from ven.config import MqttSettings
from ven.dispatch_tracking import DispatchLedger
from ven.runner import VenProcess
from ven.telemetry_mqtt import MqttTelemetrySource
from vtn.store import curtailment_repository as curtailed

pytestmark = pytest.mark.external  # the machine's Mosquitto

Q = timedelta(minutes=15)
MINUTE = timedelta(minutes=1)


def _meter(name: str, start: datetime, minutes: int, kw: float) -> list[tuple[str, bytes]]:
    return [(f"cariflex/{name}/meter/power", payload(kw, at=start + i * MINUTE)) for i in range(minutes)]


async def _get(vtn: VtnUnderTest, path: str) -> str:
    await add_user(vtn.admin_store, "viewer", "viewer")
    session = await login(vtn.base_url, "viewer")
    try:
        async with session.get(f"{vtn.base_url}{path}") as response:
            assert response.status == 200, await response.text()
            return await response.text()
    finally:
        await session.close()


def _cells(html: str, scope: str, css: str) -> list[str]:
    """The `css` cells of the interval table of the chart block `scope` ("total" or a venID), in order."""
    block = html.split(f'<section class="chart-block" data-scope="{scope}">', 1)[1].split("</section>", 1)[0]
    body = block.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return re.findall(rf'<td class="{css}">([^<]*)</td>', body)


def _sums(html: str, scope: str) -> tuple[str, str]:
    """(measured, planned) kWh of the block's sum row."""
    block = html.split(f'<section class="chart-block" data-scope="{scope}">', 1)[1].split("</section>", 1)[0]
    row = block.split('<tr class="planned-sum">', 1)[1].split("</tr>", 1)[0]
    found = dict(re.findall(r'<td class="(measured|planned)">([^<]*)</td>', row))
    return found["measured"], found["planned"]


async def test_the_sites_planned_net_power_reaches_the_vtns_json_and_event_page(sqlite_url, tmp_path):
    """Three quarter hours from t0; the meter reads 6, 9, 8 kW. Plan A, issued during the second, asks 6 then 7 kW
    from it; plan B, a re-plan issued during the third, asks 1 kW of it — too late: the third began under A.
    The first quarter hour had no plan: no planned value is sent for it. Planned beside measured: 6 | 9 and
    7 | 8 kW; summed over those two, 3.25 kWh planned against 4.25 kWh measured."""
    ensure_machine_broker()
    vtn_config = config_for_tests(sqlite_url, poll_interval=timedelta(seconds=1), curtailment_after=timedelta(0))
    async with running_vtn(vtn_config) as vtn:
        name = f"site-plan-{uuid.uuid4().hex[:8]}"
        config = ven_config(f"{vtn.base_url}/OpenADR2/Simple/2.0b", tmp_path / "ven.db", name, asset={"kind": "battery"})
        mqtt = replace(MqttSettings(port=BROKER_PORT), min_backoff=timedelta(milliseconds=200))
        process = VenProcess(replace(config, mqtt=mqtt, report_duration=timedelta(hours=3)))
        await process.start(spread_first_polls=False)
        try:
            source = process.source
            assert isinstance(source, MqttTelemetrySource)
            # the ledger a FlexMeasures-scheduled VEN keeps; its reports read it through the process
            ledger = process.tracking = DispatchLedger(config.sites, source, config.curtailment)
            await eventually(source.connected.is_set, what="the MQTT subscription")
            site = process.vens[name].site
            await eventually(lambda: site.registration is not None, what="registration")

            async def offers() -> bool:
                return site.ven_id in await vtn.ctx.store.call(curtailed.offering, [site.ven_id])

            await eventually(offers, timeout=15, what="the x-ACHIEVED_CURTAILMENT report registered at the VTN")
            t0 = floor_slot(datetime.now(UTC)) - 4 * Q
            ledger.record_site(name, "plan-A", t0 + Q + 2 * MINUTE, t0 + Q, [6.0, 7.0])
            ledger.record_site(name, "plan-B", t0 + 2 * Q + 5 * MINUTE, t0 + 2 * Q, [1.0])
            await publish(
                _meter(name, t0 - 4 * Q, 60, 10.0)
                + _meter(name, t0, 15, 6.0)
                + _meter(name, t0 + Q, 15, 9.0)
                + _meter(name, t0 + 2 * Q, 15, 8.0)
            )
            event = await vtn.create_event(
                values=(7.0, 7.0, 7.0), signal=("x-IMPORT_CAPACITY_LIMIT", "setpoint"), start_in=t0 - vtn.ctx.now()
            )
            path = f"/ui/events/{event.event_id}"

            async def arrived() -> bool:
                found = json.loads(await _get(vtn, f"{path}/curtailment.json"))
                return bool(found["sites"]) and any(i["planned_kw"] is not None for i in found["sites"][0]["intervals"])

            await eventually(arrived, timeout=30, what="the VEN's planned values at the VTN")
            found = json.loads(await _get(vtn, f"{path}/curtailment.json"))
            (site_found,) = found["sites"]
            planned = [i["planned_kw"] for i in site_found["intervals"]]
            measured = [i["measured_kw"] for i in site_found["intervals"]]
            assert planned == [None, pytest.approx(6.0), pytest.approx(7.0)]  # the re-plan did not rewrite 7 kW
            assert measured == [pytest.approx(6.0), pytest.approx(9.0), pytest.approx(8.0)]
            assert [i["planned_kw"] for i in found["total"]] == planned  # one site: its sum
            html = await _get(vtn, path)
            assert "<th>Planned kW</th>" in html
            for scope in (site.ven_id, "total"):
                assert _cells(html, scope, "planned") == ["—", "6.00", "7.00"]
                assert _cells(html, scope, "measured") == ["6.00", "9.00", "8.00"]
                assert _sums(html, scope) == ("4.25", "3.25")
        finally:
            await process.stop()

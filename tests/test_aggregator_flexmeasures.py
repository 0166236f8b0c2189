"""Aggregator price and carbon series → our VTN → our VEN → the site's price sensor on a real
FlexMeasures 1.0.1 server (no mock): a price series arrives as EUR/kWh, and for a site whose
objective is CO2 the carbon-intensity series arrives as its price (kgCO2e/kWh), which its schedules
then minimise."""

from dataclasses import replace
from datetime import timedelta

import pytest

from mapping.flexready.clock import utc_text
from mapping.grid import QUARTER, floor_slot
from tests.support.aggregator import aggregator_config, connect
from tests.support.eventually import eventually
from tests.support.ven_harness import running_ven, ven_config
from tests.support.vtn_harness import running_vtn
from tests.test_flexmeasures_e2e import V2G, _run, fm_client  # noqa: F401  (fm_client is a fixture)
from vtn.aggregator.settings import SiteSetting

pytestmark = pytest.mark.flexmeasures


@pytest.mark.parametrize(
    ("objective", "item", "unit", "values", "expected"),
    [("cost", "price", "EUR/MWh", [450, 50], [0.45, 0.05]), ("co2", "carbon", "gCO2e/kWh", [600, 200], [0.6, 0.2])],
    ids=["price", "carbon-as-price"],
)
async def test_series_reach_the_sites_price_sensor(sqlite_url, tmp_path, fm_client, objective, item, unit, values, expected):  # noqa: F811
    site = replace(V2G, name=f"fm-agg-{item}", ven_name=f"fm-agg-{item}")
    assets, store, inner, hooks, store_path = await _run(sqlite_url, tmp_path, fm_client, site)
    config = aggregator_config(
        sqlite_url, sites={site.name: SiteSetting(site.contracted_kva, objective)}, poll_interval=timedelta(seconds=1)
    )
    async with running_vtn(config) as vtn:
        ven = replace(ven_config(f"{vtn.base_url}/OpenADR2/Simple/2.0b", store_path, "x"), sites=(site,))
        async with running_ven(ven, hooks) as process:
            await eventually(lambda: process.vens[site.name].site.registration is not None, what="registration")
            agg = await connect(vtn, "agg-fm")
            start = floor_slot(vtn.ctx.now()) + 4 * QUARTER
            series = {"series_id": "s-1", "site": site.name, "item": item, "unit": unit, "values": values}
            status, body = await agg.call("POST", "/series", {**series, "start": utc_text(start)})
            assert status == 201, body
            await eventually(lambda: site.name in inner.outcomes, timeout=120, what="the schedule")
            assert inner.outcomes[site.name].job_failed is None
            price_sensor = assets[site.name].sensors["dso-price"]
            data = await fm_client.get_sensor_data(
                price_sensor, start=start, duration=2 * QUARTER, unit="EUR/kWh", resolution=QUARTER
            )
            assert [round(float(v), 4) for v in data["values"]] == expected

            async def accepted() -> bool:
                return (await agg.call("GET", "/series/s-1"))[1]["sites"][0]["ack"]["state"] == "accepted"

            await eventually(accepted, timeout=30, what="the VEN's optIn on the API")
    store.close()

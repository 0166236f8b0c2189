"""Day-ahead spot prices → our VTN → our VEN → the site's price sensor on a real FlexMeasures 1.0.1 server (no
mock): an ENTSO-E A44 publication of quarter-hour prices (curve type A03, repeated prices left out) in EUR/MWh
arrives as EUR/kWh, one value per quarter hour."""

from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from mapping.dso.spot_entsoe import parse_a44
from mapping.grid import QUARTER, floor_slot
from tests.support.eventually import eventually
from tests.support.ven_harness import running_ven, ven_config
from tests.support.vtn_harness import config_for_tests, running_vtn
from tests.test_flexmeasures_e2e import V2G, _run, fm_client  # noqa: F401  (fm_client is a fixture)
from vtn.config import ProgramConfig
from vtn.dso.spot_import import import_prices

pytestmark = pytest.mark.flexmeasures

MAINLAND = ProgramConfig("mainland-spot", "http://cariflex.fr/programs/mainland-spot", "EPEX SPOT day-ahead (mainland)")
#: EUR/MWh per quarter hour; A03 leaves out positions 2 and 5, equal to the previous
PRICES = (120.0, 120.0, 80.0, 45.0, 45.0, 300.0, 300.0, 60.0)


def _a44(start: datetime) -> bytes:
    """An A44 publication of PRICES from `start` (the layout of tests/data/spot-prices)."""
    stamp = "%Y-%m-%dT%H:%MZ"
    end = start + len(PRICES) * QUARTER
    points = "".join(
        f"<Point><position>{k}</position><price.amount>{price}</price.amount></Point>"
        for k, price in enumerate(PRICES, 1)
        if k == 1 or PRICES[k - 2] != price
    )
    return f"""<?xml version="1.0" encoding="utf-8"?>
<Publication_MarketDocument xmlns="urn:iec62325.351:tc57wg16:451-3:publicationdocument:7:3">
  <mRID>fm-spot-{start:%Y%m%d%H%M}</mRID><revisionNumber>1</revisionNumber><type>A44</type>
  <TimeSeries><mRID>1</mRID><businessType>A62</businessType>
    <in_Domain.mRID codingScheme="A01">10YFR-RTE------C</in_Domain.mRID>
    <out_Domain.mRID codingScheme="A01">10YFR-RTE------C</out_Domain.mRID>
    <currency_Unit.name>EUR</currency_Unit.name><price_Measure_Unit.name>MWH</price_Measure_Unit.name>
    <curveType>A03</curveType>
    <Period><timeInterval><start>{start:{stamp}}</start><end>{end:{stamp}}</end></timeInterval>
      <resolution>PT15M</resolution>{points}</Period>
  </TimeSeries>
</Publication_MarketDocument>""".encode()


async def test_spot_prices_reach_the_sites_price_sensor_in_eur_per_kwh(sqlite_url, tmp_path, fm_client):  # noqa: F811
    site = replace(V2G, name="fm-spot", ven_name="fm-spot")
    assets, store, inner, hooks, store_path = await _run(sqlite_url, tmp_path, fm_client, site)
    config = config_for_tests(sqlite_url, poll_interval=timedelta(seconds=1))
    config = replace(config, programs=(*config.programs, MAINLAND))
    async with running_vtn(config) as vtn:
        ven = replace(ven_config(f"{vtn.base_url}/OpenADR2/Simple/2.0b", store_path, "x"), sites=(site,))
        async with running_ven(ven, hooks):
            start = floor_slot(vtn.ctx.now()) + 4 * QUARTER
            program = (MAINLAND.program_id, MAINLAND.market_context, MAINLAND.name)
            done = await vtn.admin(import_prices, parse_a44(_a44(start)), program, (), "test", vtn.ctx.now(), config.near_window)
            assert not done.duplicate and len(done.event_ids) == 1
            await eventually(lambda: site.name in inner.outcomes, timeout=120, what="the schedule")
            assert inner.outcomes[site.name].job_failed is None
            sensor = assets[site.name].sensors["dso-price"]
            data = await fm_client.get_sensor_data(
                sensor, start=start, duration=len(PRICES) * QUARTER, unit="EUR/kWh", resolution=QUARTER
            )
            assert [round(float(v), 4) for v in data["values"]] == [0.12, 0.12, 0.08, 0.045, 0.045, 0.3, 0.3, 0.06]
    store.close()

"""Flexibility offers over real HTTP against a running VTN, on SQLite and PostgreSQL, with a sites file
describing the devices: a battery offers its power for as long as its energy lasts, a PV roof nothing;
a group order is shared by offered flexibility (the PV site gets no event); an order larger than the offer
is a 409 carrying what can be delivered; an availability optOut (oadrCreateOpt) empties the offer."""

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from mapping.flexready.clock import utc_text
from mapping.grid import floor_slot
from tests.support.aggregator import aggregator_config, connect
from tests.support.reports import opt_schedule
from tests.support.vtn_harness import VtnUnderTest, running_vtn
from vtn.store import repository as repo

Q = timedelta(minutes=15)
SITES = """
[[sites]]
name = "site-a"
contracted_kva = 9.0
[sites.asset]
kind = "battery"
power_kw = 5.0
capacity_kwh = 10.0
reserve_percent = 10

[[sites]]
name = "site-b"
contracted_kva = 6.0
[sites.asset]
kind = "pv"
peak_kw = 5.0
"""


@pytest.fixture
async def vtn(db_url: str, tmp_path: Path) -> AsyncIterator[VtnUnderTest]:
    sites = tmp_path / "sites.toml"
    sites.write_text(SITES)
    config = aggregator_config(db_url)
    config = replace(
        config,
        ui=replace(config.ui, sites_file=sites),
        aggregator=replace(config.aggregator, use_sites_file=True, sites={}),
    )
    async with running_vtn(config) as running:
        yield running


def _window(vtn: VtnUnderTest, start: int = 8, length: int = 4) -> dict[str, str]:
    slot = floor_slot(vtn.ctx.now())
    return {"start": utc_text(slot + start * Q), "end": utc_text(slot + (start + length) * Q)}


async def test_offers_come_from_the_devices_and_bound_orders(vtn):
    ven_a = (await vtn.client.register("site-a")).ven_id
    await vtn.client.register("site-b")
    agg = await connect(vtn, "agg-1")

    status, body = await agg.call("GET", "/offers", site="site-a", **_window(vtn))
    assert status == 200, body
    (a,) = body["sites"]
    # 5 kW both ways; half of 90 % of 10 kWh = 4.5 kWh each way, so 54 minutes of the hour
    assert a["down"] == {"kw": 5.0, "kwh": 4.5, "minutes": 54.0} and a["up"] == a["down"]
    status, body = await agg.call("GET", "/offers", group="ab", **_window(vtn))
    b = next(s for s in body["sites"] if s["site"] == "site-b")
    assert b["down"]["kw"] == 0.0 and b["up"]["kw"] == 0.0 and any("pv" in why for why in b["basis"])
    assert body["total"]["down"] == {"kw": 5.0, "kwh": 4.5, "minutes": 54.0}

    # a group order goes where the flexibility is: all of it to the battery, none to the PV roof
    order = {"client_order_id": "o-1", "group": "ab", "direction": "down", "mode": "delta", "power_kw": 4, **_window(vtn)}
    status, placed = await agg.call("POST", "/orders", order)
    assert status == 201, placed
    (site,) = placed["sites"]
    live, _ = await vtn.ctx.store.call(repo.load_event, site["event_id"])
    assert site["site"] == "site-a" and live.event.signals[0].intervals[0].value == -4.0
    status, modified = await agg.call("PUT", "/orders/o-1", {**order, "power_kw": 3})  # the PV site still gets nothing
    assert status == 200 and [s["site"] for s in modified["sites"]] == ["site-a"], modified
    live, _ = await vtn.ctx.store.call(repo.load_event, site["event_id"])
    assert live.event.signals[0].intervals[0].value == -3.0
    # more than can be delivered: 409, with the offer
    status, body = await agg.call("POST", "/orders", {**order, "client_order_id": "o-2", "power_kw": 6, "direction": "up"})
    assert (status, body["field"]) == (409, "power_kw") and body["offer"]["up"]["kw"] == 5.0, body
    # an import cap is not an amount of flexibility: not bounded by the offer
    cap = {**order, "client_order_id": "o-3", "site": "site-a", "group": None, "mode": "limit", "power_kw": 8}
    assert (await agg.call("POST", "/orders", {k: v for k, v in cap.items() if v is not None}))[0] == 201

    # the VEN declares itself unavailable over the window: nothing on offer
    start = floor_slot(vtn.ctx.now()) + 8 * Q
    answer = await vtn.client.send("EiOpt", opt_schedule(ven_a, "opt-away", start - Q, 2 * Q))
    assert answer.response.code == 200
    _status, body = await agg.call("GET", "/offers", site="site-a", **_window(vtn))
    assert body["sites"][0]["down"]["kw"] == 0.0 and "unavailable" in body["sites"][0]["basis"][0]

    # another's site, or none, is a 404; a bad window a 400 naming the field
    other = await connect(vtn, "agg-2", sites=())
    assert (await other.call("GET", "/offers", site="site-a", **_window(vtn)))[1]["field"] == "site"
    status, body = await agg.call("GET", "/offers", site="site-a", start=_window(vtn)["end"], end=_window(vtn)["start"])
    assert (status, body["field"]) == (400, "end")

"""The aggregator API over real HTTP against a running VTN (SQLite and PostgreSQL): tokens per
aggregator, orders and series becoming per-site events, idempotency, 4xx naming the field, acks
from oadrCreatedEvent, modify and cancel. The VEN side is played by the raw 2.0b client (XSD-checked)."""

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from mapping.flexready.clock import utc_text
from mapping.grid import floor_slot
from mapping.oadr import model as m
from mapping.oadr import report_model as r
from tests.support.aggregator import BASE, Aggregator, aggregator_config, connect
from tests.support.databases import fresh_database
from tests.support.dso import add_client as add_dso_client
from tests.support.dso import connect as connect_dso
from tests.support.reports import NOW, register_reports, update, usage_metadata
from tests.support.vtn_harness import VtnUnderTest, running_vtn
from vtn.store import repository as repo

Q = timedelta(minutes=15)


@pytest.fixture
async def vtn(db_url: str) -> AsyncIterator[VtnUnderTest]:
    async with running_vtn(aggregator_config(db_url)) as running:
        yield running


def _window(vtn: VtnUnderTest, quarters_ahead: int = 8, length: int = 4) -> tuple[str, str]:
    start = floor_slot(vtn.ctx.now()) + quarters_ahead * Q
    return utc_text(start), utc_text(start + length * Q)


def _order(vtn: VtnUnderTest, order_id: str = "o-1", **changes: object) -> dict:
    start, end = _window(vtn)
    body = {"client_order_id": order_id, "site": "site-a", "start": start, "end": end, "direction": "down", "power_kw": 20}
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


async def _registered(vtn: VtnUnderTest, name: str) -> str:
    return (await vtn.client.register(name)).ven_id


async def test_tokens_are_per_aggregator_and_other_tokens_are_refused(vtn):
    agg = await connect(vtn, "agg-1")
    status, body = await agg.call("GET", "/sites")
    assert status == 200
    assert {s["site"]: s["subscribed_kva"] for s in body["sites"]} == {"site-a": 36.0, "site-b": 12.0, "site-c": 9.0}
    assert body["groups"] == {"ab": ["site-a", "site-b"]} and body["clock"]["step_minutes"] == 15

    async with agg.session.get(agg.base + "/sites") as reply:
        assert reply.status == 401 and reply.headers["WWW-Authenticate"].startswith("Bearer")
        assert "bearer token" in (await reply.json())["detail"]
    forged = Aggregator(agg.session, agg.base, agg.token[:-4] + "AAAA")
    assert (await forged.call("GET", "/sites"))[0] == 401
    dso = await connect_dso(vtn, "dso-1")  # a DSO client: its token is for another audience, and it gets none here
    assert (await Aggregator(agg.session, agg.base, dso.token).call("GET", "/sites"))[0] == 401
    dso_secret = await add_dso_client(vtn, "dso-2")  # right secret, but no flexready scope
    form = {"grant_type": "client_credentials", "client_id": "dso-2", "client_secret": dso_secret}
    async with agg.session.post(vtn.base_url + BASE + "/auth/token", data=form) as reply:
        assert reply.status == 401
    async with agg.session.get(vtn.base_url + BASE + "/openapi.json") as reply:
        spec = await reply.json()
        assert reply.status == 200 and spec["openapi"].startswith("3.") and "/orders" in spec["paths"]


async def test_an_order_becomes_an_event_for_the_site_and_repeats_are_idempotent(vtn):
    ven_id = await _registered(vtn, "site-a")
    agg = await connect(vtn, "agg-1")
    body = _order(vtn)
    status, created = await agg.call("POST", "/orders", body)
    assert status == 201, created
    (site,) = created["sites"]
    assert site["site"] == "site-a" and site["ack"]["state"] == "pending" and site["measurements"] is None
    assert created["status"] == "scheduled"
    live, _closed = await vtn.ctx.store.call(repo.load_event, site["event_id"])
    event = live.event
    assert live.source == "aggregator:agg-1" and event.target.ven_ids == (ven_id,)
    (signal,) = event.signals
    assert (signal.name, signal.type, [i.value for i in signal.intervals]) == ("x-IMPORT_CAPACITY_LIMIT", "setpoint", [20.0] * 4)
    assert utc_text(event.dtstart) == body["start"] and event.duration == 4 * Q

    status, again = await agg.call("POST", "/orders", body)
    assert status == 200 and again["sites"][0]["event_id"] == site["event_id"]
    status, clash = await agg.call("POST", "/orders", {**body, "power_kw": 10})
    assert status == 409 and clash["field"] == "client_order_id"

    other = await connect(vtn, "agg-2", sites=())
    assert (await other.call("GET", "/orders/o-1"))[0] == 404
    assert (await other.call("DELETE", "/orders/o-1"))[0] == 404
    assert (await other.call("GET", "/orders"))[1]["items"] == []
    assert [o["client_order_id"] for o in (await agg.call("GET", "/orders"))[1]["items"]] == ["o-1"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"start": "2026-12-01T22:05:00Z"}, "start"),
        ({"power_kw": 36.5}, "power_kw"),
        ({"power_kw": None, "power": 5, "unit": "hp"}, "unit"),
        ({"direction": "left"}, "direction"),
        ({"mode": "limit", "direction": "up"}, "mode"),
    ],
)
async def test_bad_orders_get_a_400_naming_the_field(vtn, changes, field):
    agg = await connect(vtn, "agg-1")
    status, body = await agg.call("POST", "/orders", _order(vtn, **changes))
    assert status == 400 and body["field"] == field, body


async def test_an_end_before_the_start_and_a_body_that_is_not_json_are_refused(vtn):
    agg = await connect(vtn, "agg-1")
    start, end = _window(vtn)
    status, body = await agg.call("POST", "/orders", _order(vtn, start=end, end=start))
    assert status == 400 and body["field"] == "end"
    async with agg.session.post(agg.base + "/orders", data=b"{", headers={"Authorization": f"Bearer {agg.token}"}) as reply:
        assert reply.status == 400 and (await reply.json())["field"] == "body"
    status, body = await agg.call("GET", "/orders/has%20space")
    assert status in (400, 404) and "field" in body


async def test_a_group_order_is_shared_and_an_unregistered_site_is_refused_with_the_reason(vtn):
    await _registered(vtn, "site-a")
    agg = await connect(vtn, "agg-1")
    _status, sites = await agg.call("GET", "/sites")
    assert {s["site"]: s["registered"] for s in sites["sites"]} == {"site-a": True, "site-b": False, "site-c": False}
    status, body = await agg.call("POST", "/orders", _order(vtn, site=None, group="ab", power_kw=24, mode="delta"))
    assert status == 201, body
    sites = {s["site"]: s for s in body["sites"]}
    refused = {"state": "refused", "reason": "the site's VEN has not registered with the VTN", "modification_number": None}
    assert sites["site-b"]["ack"] == refused
    live, _ = await vtn.ctx.store.call(repo.load_event, sites["site-a"]["event_id"])
    assert [(s.name, s.type, s.intervals[0].value) for s in live.event.signals] == [("LOAD_DISPATCH", "delta", -18.0)]
    assert body["status"] == "scheduled"
    status, alone = await agg.call("POST", "/orders", _order(vtn, order_id="o-2", site="site-b", power_kw=5))
    assert status == 201 and alone["status"] == "refused" and alone["sites"][0]["event_id"] is None


async def test_acks_come_from_the_vens_answers(vtn):
    ven_a, ven_b = await _registered(vtn, "site-a"), await _registered(vtn, "site-b")
    agg = await connect(vtn, "agg-1")
    _status, body = await agg.call("POST", "/orders", _order(vtn, site=None, group="ab", power_kw=24))
    events_a = (await vtn.client.request_events(ven_a)).events
    events_b = (await vtn.client.request_events(ven_b)).events
    assert len(events_a) == 1 and len(events_b) == 1
    await vtn.client.ack(ven_a, events_a, "optIn")
    await vtn.client.send(
        "EiEvent",
        m.CreatedEvent(
            response=m.EiResponse(request_id="r"),
            ven_id=ven_b,
            event_responses=(m.EventResponse(200, "cannot go below 8 kW", "r", events_b[0].event_id, 0, "optOut"),),
        ),
    )
    status, found = await agg.call("GET", "/orders/o-1")
    assert status == 200
    acks = {s["site"]: s["ack"] for s in found["sites"]}
    assert acks["site-a"] == {"state": "accepted", "reason": None, "modification_number": 0}
    assert acks["site-b"] == {"state": "refused", "reason": "cannot go below 8 kW", "modification_number": 0}


async def test_modify_and_cancel_reach_the_events(vtn):
    ven_id = await _registered(vtn, "site-a")
    agg = await connect(vtn, "agg-1")
    body = _order(vtn)
    _status, created = await agg.call("POST", "/orders", body)
    event_id = created["sites"][0]["event_id"]
    start, end = _window(vtn, quarters_ahead=12, length=2)
    status, modified = await agg.call("PUT", "/orders/o-1", {**body, "start": start, "end": end, "power_kw": 15})
    assert status == 200, modified
    (event,) = (await vtn.client.request_events(ven_id)).events
    assert event.modification_number == 1 and [i.value for i in event.signals[0].intervals] == [15.0, 15.0]
    assert utc_text(event.dtstart) == start
    assert modified["sites"][0]["ack"]["state"] == "pending"
    await vtn.client.ack(ven_id, (event,))
    acked = (await agg.call("GET", "/orders/o-1"))[1]["sites"][0]["ack"]
    assert acked == {"state": "accepted", "reason": None, "modification_number": 1}
    status, moved = await agg.call("PUT", "/orders/o-1", {**body, "site": "site-b", "power_kw": 10})
    assert status == 409 and moved["field"] == "site"

    status, cancelled = await agg.call("DELETE", "/orders/o-1")
    assert status == 200 and cancelled["status"] == "cancelled"
    (event,) = (await vtn.client.request_events(ven_id)).events
    assert event.status == "cancelled" and event.event_id == event_id
    assert (await agg.call("DELETE", "/orders/o-1"))[0] == 200
    assert (await agg.call("PUT", "/orders/o-1", {**body, "power_kw": 5}))[0] == 409


async def test_series_carry_price_carbon_and_max_power(vtn):
    await _registered(vtn, "site-a")
    await _registered(vtn, "site-c")
    agg = await connect(vtn, "agg-1")
    start, _end = _window(vtn)
    series = {"series_id": "p-1", "site": "site-a", "item": "price", "unit": "EUR/MWh", "start": start, "values": [120, 80]}
    status, body = await agg.call("POST", "/series", series)
    assert status == 201, body
    live, _ = await vtn.ctx.store.call(repo.load_event, body["sites"][0]["event_id"])
    (signal,) = live.event.signals
    assert (signal.name, signal.unit.kind) == ("ELECTRICITY_PRICE", "currencyPerKWh")
    assert [i.value for i in signal.intervals] == [pytest.approx(0.12), pytest.approx(0.08)]

    carbon = {**series, "series_id": "c-1", "item": "carbon", "unit": "gCO2e/kWh", "values": [400], "step_minutes": 60}
    _status, body = await agg.call("POST", "/series", carbon)
    live, _ = await vtn.ctx.store.call(repo.load_event, body["sites"][0]["event_id"])
    assert (live.event.signals[0].name, live.event.duration) == ("x-CARBON_INTENSITY", 4 * Q)
    _status, body = await agg.call("POST", "/series", {**carbon, "series_id": "c-2", "site": "site-c"})
    live, _ = await vtn.ctx.store.call(repo.load_event, body["sites"][0]["event_id"])
    assert live.event.signals[0].name == "ELECTRICITY_PRICE"  # site-c minimises CO2: carbon is its price

    cap = {**series, "series_id": "m-1", "item": "max_power", "unit": "kW", "values": [30, 40]}
    status, body = await agg.call("POST", "/series", cap)
    assert status == 400 and body["field"] == "values[1]"
    assert (await agg.call("DELETE", "/series/p-1"))[1]["status"] == "cancelled"


async def test_a_sites_telemetry_comes_back_as_quarter_hour_means(vtn):
    reg = await vtn.client.register("site-a")
    assert isinstance(await vtn.client.poll(reg.ven_id), r.RegisterReport)
    answer = await vtn.client.send("EiReport", register_reports(reg.ven_id, usage_metadata()))
    request = answer.report_requests[0]
    # site power 4 kW for 15 minutes then 8 kW for 5 minutes, one reading a minute (pv and battery beside it)
    values = [[4.0, 1.0, 1.0]] * 15 + [[8.0, 1.0, 1.0]] * 5
    assert (await vtn.client.send("EiReport", update(reg.ven_id, request, values))).response.code == 200
    agg = await connect(vtn, "agg-1")
    query = {"start": utc_text(NOW), "end": utc_text(NOW + 3 * Q)}
    status, body = await agg.call("GET", "/sites/site-a/measurements", **query)
    assert status == 200, body
    assert body["source"] == "TELEMETRY_USAGE site-power"
    assert [(i["mean_kw"], i["samples"]) for i in body["intervals"]] == [(4.0, 15), (8.0, 5), (None, 0)]
    assert body["intervals"][0]["start_local"] == "2026-11-26T18:00:00-04:00"
    status, body = await agg.call("GET", "/sites/site-b/measurements", **query)
    assert status == 200 and body["source"] is None and body["intervals"][0]["mean_kw"] is None
    status, body = await agg.call("GET", "/sites/site-z/measurements", **query)
    assert status == 404 and body["field"] == "site"
    status, body = await agg.call("GET", "/sites/site-a/measurements", start=utc_text(NOW), end="2026-11-26T22:10:00Z")
    assert status == 400 and body["field"] == "end"


@pytest.mark.slow  # two VTNs racing
@pytest.mark.postgres
async def test_the_same_order_sent_to_two_vtn_processes_at_once_is_stored_once(tmp_path):
    """Two VTN processes on one PostgreSQL store; the same order reaches both at the same moment (a
    retried request behind a load balancer): both answer it, with the same events, and it is stored once."""
    with fresh_database("postgresql", tmp_path) as url:
        async with running_vtn(aggregator_config(url)) as first, running_vtn(aggregator_config(url)) as second:
            await _registered(first, "site-a")
            await second.process.sync.refresh()
            agg = await connect(first, "agg-1")
            other_door = Aggregator(agg.session, second.base_url + BASE, agg.token)
            for n in range(5):
                start, end = _window(first, quarters_ahead=8 + 4 * n)
                body = _order(first, order_id=f"race-{n}", start=start, end=end)
                answers = await asyncio.gather(agg.call("POST", "/orders", body), other_door.call("POST", "/orders", body))
                assert sorted(status for status, _ in answers) == [200, 201], answers
                assert answers[0][1]["sites"][0]["event_id"] == answers[1][1]["sites"][0]["event_id"]
                assert answers[0][1]["sites"][0]["event_id"] is not None

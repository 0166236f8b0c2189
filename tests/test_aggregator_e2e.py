"""The aggregator API against the running VTN and our own site VENs: an order reaches the target
sites' VENs as events, their oadrCreatedEvent answers come back on the API as per-site acks, and
after the window the API returns measured and achieved per site (from the VEN's meter over a real
Mosquitto and its x-ACHIEVED_CURTAILMENT report), and a subscriber's webhook is told they arrived.

The measured order is back-dated (the VTN accepts past windows in tests): its quarter hours are over
when the test starts and the meter samples carry the matching past timestamps, so nothing waits for
real quarter hours — the technique of test_curtailment_e2e.
"""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from mapping.flexready.clock import utc_text
from mapping.grid import floor_slot
from tests.support.aggregator import SITES, aggregator_config, connect
from tests.support.eventually import eventually
from tests.support.mqtt import BROKER_PORT, ensure_machine_broker, publish
from tests.support.ven_harness import RecordingHooks, running_ven, ven_config
from tests.support.vtn_harness import running_vtn
from tests.support.webhooks import receiving
from tests.test_curtailment_e2e import _meter, _site_ven
from vtn.aggregator.settings import SiteSetting

Q = timedelta(minutes=15)


async def test_an_order_reaches_the_sites_vens_and_their_acks_come_back(sqlite_url, tmp_path):
    config = aggregator_config(sqlite_url, poll_interval=timedelta(seconds=1))
    async with running_vtn(config) as vtn:
        hooks = RecordingHooks()
        ven = ven_config(f"{vtn.base_url}/OpenADR2/Simple/2.0b", tmp_path / "ven.db", "site-a", "site-b")
        async with running_ven(ven, hooks) as process:
            for name in ("site-a", "site-b"):
                await eventually(lambda n=name: process.vens[n].site.registration is not None, what=f"{name} registered")
            agg = await connect(vtn, "agg-1")
            start = floor_slot(vtn.ctx.now()) + 8 * Q
            window = {"start": utc_text(start), "end": utc_text(start + 4 * Q), "direction": "down"}
            status, body = await agg.call("POST", "/orders", {"client_order_id": "g-1", "group": "ab", "power_kw": 24, **window})
            assert status == 201, body
            # site-b's share of a second order is 0.5 kW, below what its VEN accepts (1 kW): it opts out
            later = {"start": utc_text(start + 8 * Q), "end": utc_text(start + 9 * Q), "direction": "down"}
            low = {"client_order_id": "b-1", "site": "site-b", "power_kw": 0.5, **later}
            status, body = await agg.call("POST", "/orders", low)
            assert status == 201, body

            async def acks(order_id: str) -> dict[str, dict]:
                return {s["site"]: s["ack"] for s in (await agg.call("GET", f"/orders/{order_id}"))[1]["sites"]}

            async def answered() -> bool:
                both = {**await acks("g-1"), "b-1": (await acks("b-1"))["site-b"]}
                return all(a["state"] != "pending" for a in both.values())

            await eventually(answered, timeout=30, what="the VENs' answers on the API")
            group = await acks("g-1")
            assert group == {
                "site-a": {"state": "accepted", "reason": None, "modification_number": 0},
                "site-b": {"state": "accepted", "reason": None, "modification_number": 0},
            }
            refused = (await acks("b-1"))["site-b"]
            # the VEN's own reason, from its eventResponse
            assert refused == {
                "state": "refused",
                "reason": "an import limit of 0.5 kW is below what this site can reach (1 kW)",
                "modification_number": 0,
            }
            _status, order = await agg.call("GET", "/orders/g-1")
            received = {e for kind, e, _ in hooks.calls if kind == "event"}
            assert {s["event_id"] for s in order["sites"]} <= received


@pytest.mark.external  # the machine's Mosquitto
async def test_after_the_window_the_api_returns_measured_and_achieved_per_site(sqlite_url, tmp_path):
    """Baseline 11 kW (10 then 12 kW over the hour before); the order caps import at 7 kW for two
    quarters; the meter reads 6 then 9 kW → measured 6 and 9, achieved 5 and 2 kW, ratio 7/8."""
    ensure_machine_broker()
    name = "site-measured"
    config = aggregator_config(
        sqlite_url,
        sites={**SITES, name: SiteSetting(36.0)},
        poll_interval=timedelta(seconds=1),
        curtailment_after=timedelta(0),
    )
    hooks = replace(config.aggregator, callback_hosts=frozenset({"127.0.0.1"}), notify_interval=timedelta(seconds=0.2))
    config = replace(config, aggregator=hooks)
    async with (
        receiving() as (receiver, callback),
        running_vtn(config) as vtn,
        _site_ven(vtn, tmp_path, BROKER_PORT, name) as (_process, _name),
    ):
        t0 = floor_slot(datetime.now(UTC)) - 3 * Q
        before = _meter(name, t0 - 4 * Q, 30, 10.0) + _meter(name, t0 - 2 * Q, 30, 12.0)
        await publish(before + _meter(name, t0, 15, 6.0) + _meter(name, t0 + Q, 15, 9.0))
        agg = await connect(vtn, "agg-1")
        assert (await agg.call("POST", "/subscriptions", {"callback_url": callback, "events": ["order.measurements"]}))[0] == 201
        order = {"client_order_id": "m-1", "site": name, "start": utc_text(t0), "end": utc_text(t0 + 2 * Q)}
        status, body = await agg.call("POST", "/orders", {**order, "direction": "down", "power_kw": 7, "mode": "limit"})
        assert status == 201, body

        async def reported() -> bool:
            site = (await agg.call("GET", "/orders/m-1"))[1]["sites"][0]
            found = site["measurements"]
            return found is not None and all(i["measured_kw"] is not None for i in found["intervals"] or [{"measured_kw": None}])

        await eventually(reported, timeout=40, what="the VEN's achieved-curtailment report on the API")
        _status, found = await agg.call("GET", "/orders/m-1")
        assert found["status"] == "completed"
        measured = found["sites"][0]["measurements"]
        got = [(i["start"], i["measured_kw"], i["achieved_kw"], i["requested_kw"], i["quality"]) for i in measured["intervals"]]
        assert got == [
            (utc_text(t0), pytest.approx(6.0), pytest.approx(5.0), pytest.approx(4.0), "claimed"),
            (utc_text(t0 + Q), pytest.approx(9.0), pytest.approx(2.0), pytest.approx(4.0), "claimed"),
        ]
        assert measured["ratio"] == pytest.approx(0.875)
        assert measured["intervals"][0]["start_local"].endswith("-04:00")
        # the subscriber is told once the figures are there (and only of what it subscribed to)
        await eventually(lambda: receiver.types("m-1") == [("order.measurements", name)], "the measurements webhook")

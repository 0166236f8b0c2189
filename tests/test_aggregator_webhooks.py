"""Webhooks of the aggregator API against a real local HTTP receiver (ephemeral port), on SQLite and
PostgreSQL: subscriptions, the notifications of an order (acknowledged, refused, started, ended) signed
with the subscription's secret and checked as a receiver would, in order, a failed delivery retried; a
callback to a host not allowed and unknown event types get a 400 naming the field."""

import json
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from mapping.flexready.clock import utc_text
from mapping.flexready.notices import verify
from mapping.grid import floor_slot
from tests.support.aggregator import aggregator_config, connect
from tests.support.eventually import eventually
from tests.support.vtn_harness import VtnUnderTest, running_vtn
from tests.support.webhooks import Receiver, receiving
from vtn.aggregator.routes import NOTIFIER_KEY

Q = timedelta(minutes=15)


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[Receiver, str]]:
    async with receiving(refuse=1) as found:
        yield found


@pytest.fixture
async def vtn(db_url: str) -> AsyncIterator[VtnUnderTest]:
    config = aggregator_config(db_url)
    aggregator = replace(config.aggregator, callback_hosts=frozenset({"127.0.0.1"}), notify_interval=timedelta(seconds=0.1))
    async with running_vtn(replace(config, aggregator=aggregator)) as running:
        running.process.app[NOTIFIER_KEY].sender.retry_delays = (0.05, 0.05, 0.05)  # a retry without waiting 1 s
        yield running


def _order(vtn: VtnUnderTest, order_id: str, start: int, length: int = 2, **more: Any) -> dict[str, Any]:
    slot = floor_slot(vtn.ctx.now())
    window = {"start": utc_text(slot + start * Q), "end": utc_text(slot + (start + length) * Q)}
    return {"client_order_id": order_id, **window, "direction": "down", "power_kw": 6, **more}


async def test_order_notifications_are_signed_ordered_and_retried(vtn, receiver):
    found, url = receiver
    ven_a, ven_b = (await vtn.client.register("site-a")).ven_id, (await vtn.client.register("site-b")).ven_id
    agg = await connect(vtn, "agg-1")
    other = await connect(vtn, "agg-2", sites=())

    status, body = await agg.call("POST", "/subscriptions", {"callback_url": "http://example.org/hook"})
    assert (status, body["field"]) == (400, "callback_url")
    status, body = await agg.call("POST", "/subscriptions", {"callback_url": url, "events": ["order.exploded"]})
    assert (status, body["field"]) == (400, "events")
    status, sub = await agg.call("POST", "/subscriptions", {"callback_url": url})
    assert status == 201 and len(sub["secret"]) >= 32 and len(sub["events"]) == 5, sub
    assert (await other.call("GET", f"/subscriptions/{sub['subscription_id']}"))[0] == 404
    _status, listed = await agg.call("GET", "/subscriptions")
    assert [s["subscription_id"] for s in listed["items"]] == [sub["subscription_id"]] and "secret" not in listed["items"][0]

    status, order = await agg.call("POST", "/orders", _order(vtn, "o-1", 8, group="ab"))
    assert status == 201, order
    await vtn.client.ack(ven_a, (await vtn.client.request_events(ven_a)).events, "optIn")
    await vtn.client.ack(ven_b, (await vtn.client.request_events(ven_b)).events, "optOut")
    wanted = {("order.acknowledged", "site-a"), ("order.refused", "site-b")}
    await eventually(lambda: set(found.types("o-1")) == wanted, "the two acknowledgements")
    assert found.refused == 1  # the first delivery was answered 503, and tried again

    # a window already over: it started and ended, in that order
    assert (await agg.call("POST", "/orders", _order(vtn, "o-past", -8, site="site-a")))[0] == 201
    await eventually(lambda: ("order.ended", None) in found.types("o-past"), "the past order's end")
    past = [t for t, _ in found.types("o-past")]
    assert past.index("order.started") < past.index("order.ended")

    now = int(vtn.ctx.now().timestamp())
    for header, raw in found.received:
        assert verify(sub["secret"], header, raw, now=now, tolerance=3600), header
        assert not verify("another secret", header, raw, now=now, tolerance=3600)
    body = json.loads(found.received[0][1])
    assert body["order"]["client_order_id"] == body["client_order_id"] and body["sent"].endswith("Z")
    count = len(found.received)

    # each change is notified once, and a deleted subscription gets nothing more
    assert (await agg.call("DELETE", f"/subscriptions/{sub['subscription_id']}"))[0] == 200
    assert (await agg.call("GET", "/subscriptions"))[1]["items"] == []
    assert (await agg.call("DELETE", "/orders/o-1"))[0] == 200
    notifier = vtn.process.app[NOTIFIER_KEY]
    assert await notifier.tick() == 0
    await notifier.sender.drain()
    assert len(found.received) == count
